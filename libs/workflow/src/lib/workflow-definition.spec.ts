import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAMBDA_SERVICE_ERRORS, TRANSIENT_ENDPOINT_ERRORS } from '@scones/payload-schemas';
import { WorkflowDefinitionError } from '../errors';
import type { AslMapState, AslParallelState, AslTaskState } from './asl-types';
import { LocalWorkflowRunner } from './local-runner';
import {
  buildBatchWorkflowDefinition,
  buildWorkflowDefinition,
  DEFAULT_MAX_CONCURRENCY,
  exportedDefinitionFiles,
  LAMBDA_INVOKE_RESOURCE,
  S3_LIST_OBJECTS_V2_RESOURCE,
  SNS_PUBLISH_RESOURCE,
  WorkflowStateName as S,
} from './workflow-definition';

type AslValidator = (definition: unknown, options?: { checkArn?: boolean; checkPaths?: boolean }) => { isValid: boolean; errorsText(separator?: string): string };
// asl-validator ships no type declarations.
const aslValidator: AslValidator = require('asl-validator');

const OPTIONS = {
  functions: {
    serialize: 'arn:aws:lambda:us-east-1:123456789012:function:serialize',
    classify: 'arn:aws:lambda:us-east-1:123456789012:function:classify',
    filter: 'arn:aws:lambda:us-east-1:123456789012:function:filter',
  },
  notifyTopicArn: 'arn:aws:sns:us-east-1:123456789012:failures',
};

const EXPECTED_RETRY = { IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 };

describe('buildWorkflowDefinition', () => {
  const definition = buildWorkflowDefinition(OPTIONS);
  const task = (name: string) => definition.States[name] as AslTaskState;

  it('chains Serialize → Classify → Filter as lambda:invoke tasks passing the whole state and keeping only the Payload', () => {
    expect(definition.StartAt).toBe(S.Serialize);
    expect([task(S.Serialize).Next, task(S.Classify).Next, task(S.Filter).End]).toEqual([S.Classify, S.Filter, true]);
    for (const [name, arn] of [
      [S.Serialize, OPTIONS.functions.serialize],
      [S.Classify, OPTIONS.functions.classify],
      [S.Filter, OPTIONS.functions.filter],
    ]) {
      expect(task(name)).toMatchObject({ Type: 'Task', Resource: LAMBDA_INVOKE_RESOURCE, Parameters: { FunctionName: arn, 'Payload.$': '$' }, OutputPath: '$.Payload' });
    }
  });

  it('retries Lambda service errors on every step (1 s, x2, 3 attempts) and transient endpoint errors on Classify only', () => {
    const lambdaRetry = { ErrorEquals: [...LAMBDA_SERVICE_ERRORS], ...EXPECTED_RETRY };
    expect(task(S.Serialize).Retry).toEqual([lambdaRetry]);
    expect(task(S.Classify).Retry).toEqual([lambdaRetry, { ErrorEquals: [...TRANSIENT_ENDPOINT_ERRORS], ...EXPECTED_RETRY }]);
    expect(task(S.Filter).Retry).toEqual([lambdaRetry]);
  });

  it('sends every failure to an SNS notification and then to a Fail state carrying the error and cause', () => {
    for (const name of [S.Serialize, S.Classify, S.Filter]) expect(task(name).Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: S.NotifyFailure }]);
    expect(task(S.NotifyFailure)).toMatchObject({
      Resource: SNS_PUBLISH_RESOURCE,
      Parameters: {
        TopicArn: OPTIONS.notifyTopicArn,
        Message: { 'execution.$': '$$.Execution.Id', 'input.$': '$$.Execution.Input', 'error.$': '$.Error', 'cause.$': '$.Cause' },
      },
      ResultPath: '$.notification',
      Next: S.Fail,
    });
    // A failed notification still ends in the Fail state, with the original error kept.
    expect(task(S.NotifyFailure).Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.notificationError', Next: S.Fail }]);
    expect(definition.States[S.Fail]).toMatchObject({ Type: 'Fail', ErrorPath: '$.Error', CausePath: '$.Cause' });
  });

  it('names the field of a missing ARN', () => {
    expect(() => buildWorkflowDefinition({ ...OPTIONS, functions: { ...OPTIONS.functions, classify: ' ' } })).toThrow(
      new WorkflowDefinitionError('workflow definition: functions.classify: expected a non-empty ARN or function name'),
    );
    expect(() => buildWorkflowDefinition({ ...OPTIONS, notifyTopicArn: '' })).toThrow(/notifyTopicArn/);
  });
});

describe('buildBatchWorkflowDefinition', () => {
  const definition = buildBatchWorkflowDefinition(OPTIONS);
  const map = definition.States[S.ClassifyImages] as AslMapState;
  const tryBlock = map.ItemProcessor.States[S.ClassifyImage] as AslParallelState;

  it('maps over s3_keys with the same three steps as the single-image definition (without its notification)', () => {
    const single = buildWorkflowDefinition(OPTIONS);
    const withoutCatch = Object.fromEntries([S.Serialize, S.Classify, S.Filter].map((name) => {
      const { Catch: _catch, ...state } = single.States[name] as AslTaskState;
      return [name, state];
    }));
    expect(map).toMatchObject({ Type: 'Map', ItemsPath: '$.s3_keys', MaxConcurrency: DEFAULT_MAX_CONCURRENCY, ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' } } });
    expect(map.ItemSelector).toEqual({ image_data: '', 's3_bucket.$': '$.s3_bucket', 's3_key.$': '$$.Map.Item.Value' });
    expect(tryBlock.Branches).toEqual([{ StartAt: S.Serialize, States: withoutCatch }]);
  });

  it('records a failed image as {s3_key, error, cause} instead of failing the batch', () => {
    expect(tryBlock.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: S.RecordFailure }]);
    expect(map.ItemProcessor.States[S.RecordFailure]).toEqual({
      Type: 'Pass',
      Parameters: { 's3_key.$': '$.s3_key', 'error.$': '$.failure.Error', 'cause.$': '$.failure.Cause' },
      End: true,
    });
    expect(tryBlock.ResultSelector).toEqual({ 's3_key.$': '$[0].body.s3_key', 'inferences.$': '$[0].body.inferences' });
  });

  it('lists s3_prefix with a ListObjectsV2 task when the input has one', () => {
    expect(definition.States[S.ChooseInput]).toEqual({ Type: 'Choice', Choices: [{ Variable: '$.s3_prefix', IsPresent: true, Next: S.ListImages }], Default: S.ClassifyImages });
    expect(definition.States[S.ListImages]).toMatchObject({ Resource: S3_LIST_OBJECTS_V2_RESOURCE, Parameters: { 'Bucket.$': '$.s3_bucket', 'Prefix.$': '$.s3_prefix' } });
  });

  it('takes maxConcurrency and rejects a bad one', () => {
    expect((buildBatchWorkflowDefinition({ ...OPTIONS, maxConcurrency: 3 }).States[S.ClassifyImages] as AslMapState).MaxConcurrency).toBe(3);
    expect((buildBatchWorkflowDefinition({ ...OPTIONS, maxConcurrency: 0 }).States[S.ClassifyImages] as AslMapState).MaxConcurrency).toBe(0);
    expect(() => buildBatchWorkflowDefinition({ ...OPTIONS, maxConcurrency: 2.5 })).toThrow(WorkflowDefinitionError);
    expect(() => buildBatchWorkflowDefinition({ ...OPTIONS, maxConcurrency: -1 })).toThrow(/maxConcurrency: expected an integer >= 0/);
  });
});

describe('the definitions', () => {
  const definitions = { single: buildWorkflowDefinition(OPTIONS), batch: buildBatchWorkflowDefinition(OPTIONS) };

  it.each(Object.keys(definitions))('%s is valid ASL for asl-validator (ARNs and paths checked)', (which) => {
    const { isValid, errorsText } = aslValidator(definitions[which as keyof typeof definitions], { checkArn: true, checkPaths: true });
    expect(errorsText()).toBe('');
    expect(isValid).toBe(true);
  });

  it('asl-validator does reject a broken definition (the check above can fail)', () => {
    const broken = structuredClone(definitions.single);
    (broken.States[S.Classify] as AslTaskState).Next = 'No such state';
    expect(aslValidator(broken, { checkArn: true, checkPaths: true }).isValid).toBe(false);
  });

  it.each(Object.keys(definitions))('%s passes the local engine\'s own validation', (which) => {
    expect(() => new LocalWorkflowRunner(definitions[which as keyof typeof definitions], { handlers: {} })).not.toThrow();
  });

  it.each(Object.entries(exportedDefinitionFiles()))('definitions/%s is what the builder produces (run `npx nx run workflow:export-definitions` after changing it)', (file, expected) => {
    const actual = readFileSync(join(__dirname, '../../definitions', file), 'utf8');
    expect(actual).toBe(expected);
    expect(aslValidator(JSON.parse(actual), { checkArn: true, checkPaths: true }).isValid).toBe(true);
  });
});
