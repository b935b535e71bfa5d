import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StopExecutionCommand,
  UpdateStateMachineCommand,
  type GetExecutionHistoryCommandOutput,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import type { TestStack } from '../../testing';
import { FILTER_RAISE_STRING_PY } from '../lambda/testing';
import type { SnsService } from '../sns/sns-service';
import { CREDENTIALS, ROLE_ARN, TOOLBOX_JS, createFunction, sfnClient, startStatesStack, waitForEnd } from './testing';

jest.setTimeout(120_000);

type Definition = Record<string, unknown>;
const invoke = (Payload: unknown, extra: Definition = {}, FunctionName = 'toolbox') => ({ Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName, Payload }, ...extra });

describe('Step Functions on the local stack', () => {
  let stack: TestStack;
  let sfn: SFNClient;
  let scratch: string;
  let machines = 0;
  beforeAll(async () => {
    stack = await startStatesStack();
    sfn = sfnClient(stack);
    // Files the functions count their calls in: under the stack's data directory, which every
    // environment sees as it is (each has its own /tmp, as on Lambda).
    scratch = await mkdtemp(join(stack.dataDir, 'sfn-spec-'));
    await createFunction(stack, 'toolbox', { 'index.js': TOOLBOX_JS });
  });
  afterAll(async () => {
    sfn.destroy();
    await stack.dispose();
    await rm(scratch, { recursive: true, force: true });
  });

  /** Creates a state machine with a fresh name and runs it to its end. */
  async function execute(definition: Definition, input: unknown = {}, options: { type?: 'STANDARD' | 'EXPRESS' } = {}) {
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: `m${++machines}`, definition: JSON.stringify(definition), roleArn: ROLE_ARN, ...(options.type ? { type: options.type } : {}) }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
    const described = await waitForEnd(sfn, executionArn!);
    const events = await history(executionArn!);
    return { stateMachineArn: stateMachineArn!, executionArn: executionArn!, described, events, output: described.output === undefined ? undefined : JSON.parse(described.output) };
  }
  async function history(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }
  const types = (events: HistoryEvent[]) => events.map((e) => e.type ?? '');

  describe('state machines', () => {
    it('creates, describes, lists, updates and deletes them', async () => {
      const definition = JSON.stringify({ Comment: 'v1', StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
      const created = await sfn.send(new CreateStateMachineCommand({ name: 'crud', definition, roleArn: ROLE_ARN, tags: [{ key: 'team', value: 'scones' }] }));
      expect(created.stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:crud');
      expect(created.creationDate).toBeInstanceOf(Date);
      // Idempotent for the same definition and role; a different one is a conflict.
      expect((await sfn.send(new CreateStateMachineCommand({ name: 'crud', definition, roleArn: ROLE_ARN }))).stateMachineArn).toBe(created.stateMachineArn);
      await expect(sfn.send(new CreateStateMachineCommand({ name: 'crud', definition: definition.replace('v1', 'v2'), roleArn: ROLE_ARN }))).rejects.toMatchObject({ name: 'StateMachineAlreadyExists' });

      const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }));
      expect(described).toMatchObject({ stateMachineArn: created.stateMachineArn, name: 'crud', status: 'ACTIVE', definition, roleArn: ROLE_ARN, type: 'STANDARD', loggingConfiguration: { level: 'OFF', includeExecutionData: false }, tracingConfiguration: { enabled: false } });
      expect(described.creationDate?.getTime()).toBe(created.creationDate?.getTime());

      const updatedDefinition = definition.replace('v1', 'v2');
      const updated = await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: created.stateMachineArn, definition: updatedDefinition }));
      expect(updated.updateDate).toBeInstanceOf(Date);
      expect(updated.revisionId).not.toBe(described.revisionId);
      expect((await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }))).definition).toBe(updatedDefinition);
      await expect(sfn.send(new UpdateStateMachineCommand({ stateMachineArn: created.stateMachineArn }))).rejects.toMatchObject({ name: 'MissingRequiredParameter' });

      const listed = await sfn.send(new ListStateMachinesCommand({}));
      expect(listed.stateMachines).toContainEqual({ stateMachineArn: created.stateMachineArn, name: 'crud', type: 'STANDARD', creationDate: created.creationDate });

      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: created.stateMachineArn }));
      await expect(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }))).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
      // Deleting what is gone succeeds.
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: created.stateMachineArn }));
    });

    it('refuses bad names, roles and ARNs with AWS errors', async () => {
      const definition = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
      await expect(sfn.send(new CreateStateMachineCommand({ name: 'has space', definition, roleArn: ROLE_ARN }))).rejects.toMatchObject({ name: 'InvalidName' });
      await expect(sfn.send(new CreateStateMachineCommand({ name: 'x'.repeat(81), definition, roleArn: ROLE_ARN }))).rejects.toMatchObject({ name: 'InvalidName' });
      await expect(sfn.send(new CreateStateMachineCommand({ name: 'role', definition, roleArn: 'not-a-role' }))).rejects.toMatchObject({ name: 'InvalidArn', message: expect.stringContaining('not-a-role') });
      await expect(sfn.send(new CreateStateMachineCommand({ name: 'versioned', definition, roleArn: ROLE_ARN, publish: true }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('publish') });
      await expect(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:none' }))).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
      await expect(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: 'nope' }))).rejects.toMatchObject({ name: 'InvalidArn' });
      await expect(sfn.send(new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:none:x' }))).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    });

    it('pages ListStateMachines', async () => {
      const definition = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
      for (const name of ['page-a', 'page-b', 'page-c']) await sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: ROLE_ARN }));
      const names: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(new ListStateMachinesCommand({ maxResults: 1, nextToken }));
        expect(page.stateMachines!.length).toBeLessThanOrEqual(1);
        names.push(...page.stateMachines!.map((m) => m.name!));
        nextToken = page.nextToken;
      } while (nextToken);
      expect(names.filter((n) => n.startsWith('page-'))).toEqual(['page-a', 'page-b', 'page-c']);
      await expect(sfn.send(new ListStateMachinesCommand({ nextToken: 'garbage' }))).rejects.toMatchObject({ name: 'InvalidToken' });
    });
  });

  describe('executions', () => {
    it('runs lambda:invoke tasks with Payload.$ and OutputPath, whatever way FunctionName names the function', async () => {
      const states = {
        ByName: invoke({ 'step.$': '$.step', action: 'echo', via: 'name' }, { OutputPath: '$.Payload', Next: 'ByForeignArn' }),
        ByForeignArn: invoke({ action: 'echo', via: 'arn', 'previous.$': '$.via' }, { OutputPath: '$.Payload', Next: 'ByLatest' }, 'arn:aws:lambda:eu-central-1:123456789012:function:toolbox'),
        ByLatest: invoke({ action: 'echo', via: 'latest' }, { OutputPath: '$.Payload', Next: 'ByPartialArn' }, 'arn:aws:lambda:us-east-1:000000000000:function:toolbox:$LATEST'),
        ByPartialArn: invoke({ action: 'echo', via: 'partial', fn: 'toolbox' }, { OutputPath: '$.Payload', Next: 'ByPath' }, '123456789012:function:toolbox'),
        ByPath: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { 'FunctionName.$': '$.fn', 'Payload.$': '$' }, OutputPath: '$.Payload', End: true },
      };
      const run = await execute({ StartAt: 'ByName', States: states }, { step: 1 });
      expect(run.described).toMatchObject({ status: 'SUCCEEDED', input: '{"step":1}', name: expect.any(String), inputDetails: { included: true } });
      expect(run.output).toEqual({ action: 'echo', via: 'partial', fn: 'toolbox' });
      expect(types(run.events)).toEqual([
        'ExecutionStarted',
        ...Array.from({ length: 5 }, () => ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited']).flat(),
        'ExecutionSucceeded',
      ]);
      // Ids count from 1; each event links to the one before it, except the first state (0, as on AWS).
      expect(run.events.map((e) => e.id)).toEqual(run.events.map((_, i) => i + 1));
      expect(run.events.map((e) => e.previousEventId)).toEqual([0, 0, ...run.events.slice(2).map((e) => e.id! - 1)]);
      for (const e of run.events) expect(e.timestamp).toBeInstanceOf(Date);
      const [started, entered, scheduled, taskStarted, succeeded, exited] = run.events;
      expect(started.executionStartedEventDetails).toEqual({ input: '{"step":1}', inputDetails: { truncated: false }, roleArn: ROLE_ARN });
      expect(entered.stateEnteredEventDetails).toEqual({ name: 'ByName', input: '{"step":1}', inputDetails: { truncated: false } });
      expect(scheduled.taskScheduledEventDetails).toEqual({ resourceType: 'lambda', resource: 'invoke', region: 'us-east-1', parameters: JSON.stringify({ FunctionName: 'toolbox', Payload: { step: 1, action: 'echo', via: 'name' } }) });
      expect(taskStarted.taskStartedEventDetails).toEqual({ resourceType: 'lambda', resource: 'invoke' });
      const taskOutput = JSON.parse(succeeded.taskSucceededEventDetails!.output!);
      expect(taskOutput).toMatchObject({ ExecutedVersion: '$LATEST', StatusCode: 200, Payload: { step: 1, action: 'echo', via: 'name' }, SdkHttpMetadata: { HttpStatusCode: 200 }, SdkResponseMetadata: { RequestId: expect.any(String) } });
      expect(exited.stateExitedEventDetails).toEqual({ name: 'ByName', output: JSON.stringify({ step: 1, action: 'echo', via: 'name' }), outputDetails: { truncated: false } });
      expect(run.events.at(-1)!.executionSucceededEventDetails).toEqual({ output: run.described.output, outputDetails: { truncated: false } });
      // The parameters show FunctionName as the definition wrote it.
      const scheduledNames = run.events.filter((e) => e.type === 'TaskScheduled').map((e) => JSON.parse(e.taskScheduledEventDetails!.parameters!).FunctionName);
      expect(scheduledNames).toEqual(['toolbox', 'arn:aws:lambda:eu-central-1:123456789012:function:toolbox', 'arn:aws:lambda:us-east-1:000000000000:function:toolbox:$LATEST', '123456789012:function:toolbox', 'toolbox']);
    });

    it('runs a Lambda function ARN as the Resource: the result unwrapped, LambdaFunction* events', async () => {
      const run = await execute({ StartAt: 'Plain', States: { Plain: { Type: 'Task', Resource: 'arn:aws:lambda:ap-southeast-2:111122223333:function:toolbox', End: true } } }, { action: 'echo', n: 7 });
      expect(run.output).toEqual({ action: 'echo', n: 7 });
      expect(types(run.events)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded', 'TaskStateExited', 'ExecutionSucceeded']);
      expect(run.events[2].lambdaFunctionScheduledEventDetails).toEqual({ resource: 'arn:aws:lambda:ap-southeast-2:111122223333:function:toolbox', input: '{"action":"echo","n":7}', inputDetails: { truncated: false } });
      expect(run.events[4].lambdaFunctionSucceededEventDetails).toEqual({ output: '{"action":"echo","n":7}', outputDetails: { truncated: false } });
    });

    it("fails with the function's error type, the payload as cause; Python's raise(\"…\") is a TypeError", async () => {
      const viaIntegration = await execute({ StartAt: 'T', States: { T: invoke({ action: 'fail', errorType: 'ValueError', message: 'bad value' }, { End: true }) } });
      expect(viaIntegration.described).toMatchObject({ status: 'FAILED', error: 'ValueError' });
      expect(JSON.parse(viaIntegration.described.cause!)).toMatchObject({ errorType: 'ValueError', errorMessage: 'bad value' });
      expect(types(viaIntegration.events).slice(-2)).toEqual(['TaskFailed', 'ExecutionFailed']);
      expect(viaIntegration.events.at(-2)!.taskFailedEventDetails).toEqual({ resourceType: 'lambda', resource: 'invoke', error: 'ValueError', cause: viaIntegration.described.cause });
      expect(viaIntegration.events.at(-1)!.executionFailedEventDetails).toEqual({ error: 'ValueError', cause: viaIntegration.described.cause });

      const plain = await execute({ StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:toolbox', End: true } } }, { action: 'fail', errorType: 'CustomError' });
      expect(plain.described).toMatchObject({ status: 'FAILED', error: 'CustomError' });
      expect(plain.events.at(-2)).toMatchObject({ type: 'LambdaFunctionFailed', lambdaFunctionFailedEventDetails: { error: 'CustomError', cause: plain.described.cause } });

      await createFunction(stack, 'py-filter', { 'lambda_function.py': FILTER_RAISE_STRING_PY }, { runtime: 'python3.11', handler: 'lambda_function.lambda_handler' });
      const python = await execute({ StartAt: 'Filter', States: { Filter: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'py-filter', 'Payload.$': '$' }, OutputPath: '$.Payload', End: true } } }, { body: { inferences: [0.6, 0.4] } });
      expect(python.described).toMatchObject({ status: 'FAILED', error: 'TypeError' });
      expect(JSON.parse(python.described.cause!)).toMatchObject({ errorType: 'TypeError', errorMessage: 'exceptions must derive from BaseException' });
    });

    it('names a missing function Lambda.ResourceNotFoundException and a non-JSON answer stays a string', async () => {
      const missing = await execute({ StartAt: 'T', States: { T: invoke({}, { End: true }, 'no-such-function') } });
      expect(missing.described).toMatchObject({ status: 'FAILED', error: 'Lambda.ResourceNotFoundException' });
      expect(missing.described.cause).toMatch(/no-such-function.*\(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: [0-9a-f-]+; Proxy: null\)$/);
      const text = await execute({ StartAt: 'T', States: { T: invoke({ action: 'text' }, { OutputPath: '$.Payload', End: true }) } });
      expect(text.output).toBe('plain text');
    });

    it('retries and catches as Retry and Catch say', async () => {
      const file = join(scratch, 'flaky-calls');
      const run = await execute({
        StartAt: 'Flaky',
        States: {
          Flaky: invoke(
            { action: 'flaky', file, failures: 2 },
            { OutputPath: '$.Payload', Retry: [{ ErrorEquals: ['Lambda.ServiceException'], MaxAttempts: 5 }, { ErrorEquals: ['FlakyError'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3 }], Next: 'Missing' },
          ),
          Missing: invoke({}, { Catch: [{ ErrorEquals: ['Lambda.ResourceNotFoundException'], ResultPath: '$.failure', Next: 'Boom' }], Next: 'Unreached' }, 'absent-function'),
          Boom: invoke({ action: 'fail', errorType: 'Boom' }, { ResultPath: null, Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Caught' }], Next: 'Unreached' }),
          Caught: { Type: 'Pass', End: true },
          Unreached: { Type: 'Fail', Error: 'Unreached' },
        },
      });
      expect(run.described.status).toBe('SUCCEEDED');
      // The Boom catcher's output replaced the state input (no ResultPath on the catcher).
      expect(run.output).toEqual({ Error: 'Boom', Cause: expect.stringContaining('"errorType":"Boom"') });
      expect(types(run.events).filter((t) => t.startsWith('Task') && t !== 'TaskStarted')).toEqual([
        'TaskStateEntered', 'TaskScheduled', 'TaskFailed', 'TaskScheduled', 'TaskFailed', 'TaskScheduled', 'TaskSucceeded', 'TaskStateExited',
        'TaskStateEntered', 'TaskScheduled', 'TaskFailed', 'TaskStateExited',
        'TaskStateEntered', 'TaskScheduled', 'TaskFailed', 'TaskStateExited',
      ]);
      const missingExit = run.events.filter((e) => e.type === 'TaskStateExited')[1];
      expect(JSON.parse(missingExit.stateExitedEventDetails!.output!)).toEqual({ calls: 3, failure: { Error: 'Lambda.ResourceNotFoundException', Cause: expect.stringContaining('absent-function') } });
    });

    it('applies InputPath, Parameters, ResultSelector, ResultPath and OutputPath as Step Functions does', async () => {
      const run = await execute(
        {
          StartAt: 'Paths',
          States: {
            Paths: {
              ...invoke({ action: 'echo', 'id.$': '$.id', 'tags.$': '$.tags[0]', 'now.$': 'States.Format(\'order {}\', $.id)', context: { 'execution.$': '$$.Execution.Name' } }),
              InputPath: '$.order',
              ResultSelector: { 'echoed.$': '$.Payload', 'status.$': '$.StatusCode' },
              ResultPath: '$.result',
              OutputPath: '$.result',
              Next: 'Root',
            },
            Root: { ...invoke({ action: 'echo', 'kept.$': '$.status' }), ResultSelector: { 'payload.$': '$.Payload' }, ResultPath: '$', Next: 'Zero' },
            Zero: { Type: 'Pass', Result: 0, ResultPath: '$.zero', Next: 'Absent' },
            Absent: { Type: 'Choice', Choices: [{ Variable: '$.missing', IsPresent: false, Next: 'Discard' }], Default: 'Unreached' },
            Discard: { Type: 'Pass', ResultPath: null, OutputPath: '$.payload', End: true },
            Unreached: { Type: 'Fail', Error: 'Unreached' },
          },
        },
        { order: { id: 42, tags: ['a', 'b'] }, other: true },
        {},
      );
      expect(run.described.status).toBe('SUCCEEDED');
      expect(run.output).toEqual({ action: 'echo', kept: 200 });
      const exits = run.events.filter((e) => e.type?.endsWith('StateExited')).map((e) => JSON.parse(e.stateExitedEventDetails!.output!));
      expect(exits[0]).toEqual({ echoed: { action: 'echo', id: 42, tags: 'a', now: 'order 42', context: { execution: run.described.name } }, status: 200 });
      expect(exits[1]).toEqual({ payload: { action: 'echo', kept: 200 } });
      expect(exits[2]).toEqual({ payload: { action: 'echo', kept: 200 }, zero: 0 });
    });

    it('fails with no error from a Fail state that names none, and rewords a path error as AWS does', async () => {
      const bare = await execute({ StartAt: 'F', States: { F: { Type: 'Fail' } } });
      expect(bare.described.status).toBe('FAILED');
      expect(bare.described.error).toBeUndefined();
      expect(bare.described.cause).toBeUndefined();
      expect(types(bare.events)).toEqual(['ExecutionStarted', 'FailStateEntered', 'ExecutionFailed']);
      const path = await execute({ StartAt: 'P', States: { P: { Type: 'Pass', Parameters: { 'm.$': '$.nope' }, End: true } } }, { x: 'a' });
      expect(path.described).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
      expect(path.described.cause).toMatch(/^An error occurred while executing the state 'P' \(entered at the event id #2\)\. .*\$\.nope/);
    });

    it('maps over items with MaxConcurrency, recording each iteration as Step Functions does', async () => {
      const items = [1, 2, 3, 4, 5, 6].map((n) => ({ action: 'echo', n }));
      const run = await execute(
        {
          StartAt: 'Each',
          States: {
            Each: {
              Type: 'Map',
              ItemsPath: '$.items',
              MaxConcurrency: 2,
              ItemSelector: { 'item.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
              ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Echo', States: { Echo: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:toolbox', InputPath: '$.item', ResultSelector: { 'n.$': '$.n' }, End: true } } },
              End: true,
            },
          },
        },
        { items },
      );
      expect(run.output).toEqual(items.map(({ n }) => ({ n })));
      const [mapStarted] = run.events.filter((e) => e.type === 'MapStateStarted');
      expect(mapStarted.mapStateStartedEventDetails).toEqual({ length: 6 });
      const iterations = run.events.filter((e) => e.type === 'MapIterationStarted');
      expect(iterations.map((e) => e.mapIterationStartedEventDetails)).toEqual(items.map((_, index) => ({ name: 'Each', index })));
      for (const e of iterations) expect(e.previousEventId).toBe(mapStarted.id);
      const succeeded = run.events.filter((e) => e.type === 'MapIterationSucceeded').map((e) => e.mapIterationSucceededEventDetails!.index).sort();
      expect(succeeded).toEqual([0, 1, 2, 3, 4, 5]);
      // Within an iteration each event links to the one before it.
      const byId = new Map(run.events.map((e) => [e.id!, e]));
      for (const e of run.events.filter((x) => x.type === 'MapIterationSucceeded')) {
        const chain: string[] = [];
        for (let at: HistoryEvent | undefined = e; at && at.type !== 'MapStateStarted'; at = byId.get(at.previousEventId!)) chain.unshift(at.type!);
        expect(chain).toEqual(['MapIterationStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded', 'TaskStateExited', 'MapIterationSucceeded']);
      }
      expect(types(run.events).slice(-3)).toEqual(['MapStateSucceeded', 'MapStateExited', 'ExecutionSucceeded']);
      // Every iteration's events come before the Map's end.
      const mapEnd = run.events.find((e) => e.type === 'MapStateSucceeded')!;
      expect(Math.max(...run.events.filter((e) => e.type?.startsWith('MapIteration')).map((e) => e.id!))).toBeLessThan(mapEnd.id!);
      expect(mapEnd.previousEventId).toBe(Math.max(...run.events.filter((e) => e.type === 'MapIterationSucceeded').map((e) => e.id!)));
    });

    it('fails a Map when an iteration fails, and catches it', async () => {
      const items = [{ action: 'echo' }, { action: 'fail', errorType: 'ItemError' }, { action: 'echo' }];
      const definition = (withCatch: boolean) => ({
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            MaxConcurrency: 1,
            ItemProcessor: { StartAt: 'Work', States: { Work: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:toolbox', End: true } } },
            ...(withCatch ? { Catch: [{ ErrorEquals: ['ItemError'], ResultPath: '$.failure', Next: 'Handled' }] } : {}),
            End: !withCatch || undefined,
            ...(withCatch ? { Next: 'Done' } : {}),
          },
          ...(withCatch ? { Handled: { Type: 'Pass', End: true }, Done: { Type: 'Succeed' } } : {}),
        },
      });
      const failed = await execute(definition(false), { items });
      expect(failed.described).toMatchObject({ status: 'FAILED', error: 'ItemError' });
      expect(types(failed.events).filter((t) => t.startsWith('Map'))).toEqual(['MapStateEntered', 'MapStateStarted', 'MapIterationStarted', 'MapIterationSucceeded', 'MapIterationStarted', 'MapIterationFailed', 'MapStateFailed']);
      expect(failed.events.find((e) => e.type === 'MapIterationFailed')!.mapIterationFailedEventDetails).toEqual({ name: 'Each', index: 1 });
      // The item after the failure never ran (MaxConcurrency 1): no third call of the function.
      expect(failed.events.filter((e) => e.type === 'LambdaFunctionScheduled')).toHaveLength(2);

      const caught = await execute(definition(true), { items });
      expect(caught.described.status).toBe('SUCCEEDED');
      expect(caught.output).toEqual({ items, failure: { Error: 'ItemError', Cause: expect.stringContaining('ItemError') } });
      expect(types(caught.events)).toContain('MapStateFailed');
      expect(types(caught.events)).not.toContain('MapStateSucceeded');
    });

    it('stops a running execution: ABORTED with the error and cause given', async () => {
      const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'stoppable', definition: JSON.stringify({ StartAt: 'Wait', States: { Wait: invoke({ action: 'wait', ms: 30_000 }, { End: true }) } }), roleArn: ROLE_ARN }));
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'to-stop' }));
      expect(executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:stoppable:to-stop');
      // Stop once the task has started (the history says so).
      for (let i = 0; !(await history(executionArn!)).some((e) => e.type === 'TaskStarted'); i++) {
        if (i > 2000) throw new Error('the task never started');
        await new Promise((r) => setTimeout(r, 25));
      }
      expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
      const stopped = await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator.Stop', cause: 'no longer needed' }));
      expect(stopped.stopDate).toBeInstanceOf(Date);
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator.Stop', cause: 'no longer needed' });
      const events = await history(executionArn!);
      expect(events.at(-1)).toMatchObject({ type: 'ExecutionAborted', executionAbortedEventDetails: { error: 'Operator.Stop', cause: 'no longer needed' } });
      // A name is taken once used.
      await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'to-stop' }))).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    });

    it("times out a Task after its TimeoutSeconds (TaskTimedOut) and an execution after the machine's (TIMED_OUT)", async () => {
      const task = await execute({ StartAt: 'Slow', States: { Slow: invoke({ action: 'wait', ms: 20_000 }, { TimeoutSeconds: 1, End: true }) } });
      expect(task.described).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
      expect(task.events.find((e) => e.type === 'TaskScheduled')!.taskScheduledEventDetails!.timeoutInSeconds).toBe(1);
      expect(types(task.events).slice(-2)).toEqual(['TaskTimedOut', 'ExecutionFailed']);
      expect(task.events.at(-2)!.taskTimedOutEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke', error: 'States.Timeout' });
      const machine = await execute({ TimeoutSeconds: 1, StartAt: 'Slow', States: { Slow: invoke({ action: 'wait', ms: 20_000 }, { End: true }) } });
      expect(machine.described).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
      expect(machine.events.at(-1)).toMatchObject({ type: 'ExecutionTimedOut', executionTimedOutEventDetails: { error: 'States.Timeout' } });
    });

    it('lists executions by status and pages a history forwards and backwards', async () => {
      const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'listed', definition: JSON.stringify({ StartAt: 'T', States: { T: invoke({ 'action.$': '$.action', errorType: 'Nope' }, { End: true }) } }), roleArn: ROLE_ARN }));
      const arns: string[] = [];
      for (const action of ['echo', 'fail', 'echo']) {
        const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ action }) }));
        await waitForEnd(sfn, executionArn!);
        arns.push(executionArn!);
      }
      const failed = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'FAILED' }));
      expect(failed.executions!.map((e) => e.executionArn)).toEqual([arns[1]]);
      expect(failed.executions![0]).toMatchObject({ stateMachineArn, status: 'FAILED', startDate: expect.any(Date), stopDate: expect.any(Date) });
      const paged: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 2, nextToken }));
        paged.push(...page.executions!.map((e) => e.executionArn!));
        nextToken = page.nextToken;
      } while (nextToken);
      expect(paged).toEqual([...arns].reverse()); // newest first

      const all = await history(arns[0]);
      const forwards: HistoryEvent[] = [];
      nextToken = undefined;
      do {
        const page: GetExecutionHistoryCommandOutput = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arns[0], maxResults: 2, nextToken }));
        forwards.push(...page.events!);
        nextToken = page.nextToken;
      } while (nextToken);
      expect(forwards).toEqual(all);
      const backwards = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arns[0], reverseOrder: true, maxResults: 3 }));
      expect(backwards.events!.map((e) => e.id)).toEqual([all.length, all.length - 1, all.length - 2]);
      await expect(sfn.send(new GetExecutionHistoryCommand({ executionArn: arns[0], reverseOrder: false, nextToken: backwards.nextToken }))).rejects.toMatchObject({ name: 'InvalidToken' });
      const noData = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arns[0], includeExecutionData: false }));
      expect(noData.events![0].executionStartedEventDetails).toEqual({ inputDetails: { truncated: false }, roleArn: ROLE_ARN });
      expect(noData.events!.find((e) => e.type === 'TaskScheduled')!.taskScheduledEventDetails!.parameters).toBeUndefined();

      await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{not json' }))).rejects.toMatchObject({ name: 'InvalidExecutionInput' });
      await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'bad/name' }))).rejects.toMatchObject({ name: 'InvalidName' });
    });

    it('answers StartSyncExecution for EXPRESS machines (with disableHostPrefix) and refuses it for STANDARD', async () => {
      const sync = sfnClient(stack, { disableHostPrefix: true });
      try {
        const definition = JSON.stringify({ StartAt: 'T', States: { T: invoke({ 'action.$': '$.action', errorType: 'SyncError' }, { OutputPath: '$.Payload', End: true }) } });
        const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'express', definition, roleArn: ROLE_ARN, type: 'EXPRESS' }));
        const ok = await sync.send(new StartSyncExecutionCommand({ stateMachineArn, input: '{"action":"echo"}', name: 'sync-1' }));
        expect(ok).toMatchObject({ status: 'SUCCEEDED', stateMachineArn, name: 'sync-1', input: '{"action":"echo"}', output: '{"action":"echo","errorType":"SyncError"}', billingDetails: { billedMemoryUsedInMB: 64 } });
        expect(ok.executionArn).toMatch(/^arn:aws:states:us-east-1:000000000000:express:express:sync-1:[0-9a-f-]{36}$/);
        const failed = await sync.send(new StartSyncExecutionCommand({ stateMachineArn, input: '{"action":"fail"}' }));
        expect(failed).toMatchObject({ status: 'FAILED', error: 'SyncError' });
        await expect(sfn.send(new ListExecutionsCommand({ stateMachineArn }))).rejects.toMatchObject({ name: 'StateMachineTypeNotSupported' });
        await expect(sfn.send(new DescribeExecutionCommand({ executionArn: ok.executionArn }))).rejects.toMatchObject({ name: 'InvalidArn' });
        const standard = await sfn.send(new CreateStateMachineCommand({ name: 'not-express', definition, roleArn: ROLE_ARN }));
        await expect(sync.send(new StartSyncExecutionCommand({ stateMachineArn: standard.stateMachineArn }))).rejects.toMatchObject({ name: 'StateMachineTypeNotSupported' });
        // The request an SDK sends to the `sync-` host is served too (routing is by signing scope and target).
        const answer = await fetch(stack.url, {
          method: 'POST',
          headers: { host: `sync-${new URL(stack.url).host}`, 'x-amz-target': 'AWSStepFunctions.StartSyncExecution', 'content-type': 'application/x-amz-json-1.0' },
          body: JSON.stringify({ stateMachineArn, input: '{"action":"echo"}' }),
        });
        expect(await answer.json()).toMatchObject({ status: 'SUCCEEDED' });
      } finally {
        sync.destroy();
      }
    });

    it('publishes to SNS from an sns:publish task, and names a missing topic SNS.NotFoundException', async () => {
      const sns = new SNSClient({ endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS });
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'sfn-notices' }));
      sns.destroy();
      const run = await execute({
        StartAt: 'Notify',
        States: {
          Notify: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', Parameters: { TopicArn, Subject: 'From a state machine', Message: { 'execution.$': '$$.Execution.Id', 'value.$': '$.value' }, MessageAttributes: { kind: { DataType: 'String', StringValue: 'notice' } } }, ResultPath: '$.published', Next: 'Missing' },
          // A definition exported from another account names the topic with that account: it is the stack's topic of that name.
          Foreign: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', Parameters: { TopicArn: 'arn:aws:sns:us-east-1:123456789012:sfn-notices', Message: 'foreign' }, End: true },
          Missing: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', Parameters: { TopicArn: 'arn:aws:sns:us-east-1:000000000000:absent', Message: 'x' }, Catch: [{ ErrorEquals: ['SNS.NotFoundException'], ResultPath: '$.missing', Next: 'Foreign' }], End: true },
        },
      }, { value: 5 });
      expect(run.described.status).toBe('SUCCEEDED');
      const scheduled = run.events.find((e) => e.type === 'TaskScheduled')!;
      expect(scheduled.taskScheduledEventDetails).toMatchObject({ resourceType: 'sns', resource: 'publish' });
      const messages = await stack.service<SnsService>('sns')!.listMessages(TopicArn!);
      expect(messages).toEqual([
        expect.objectContaining({ Subject: 'From a state machine', Message: JSON.stringify({ execution: run.executionArn, value: 5 }), MessageAttributes: { kind: { DataType: 'String', StringValue: 'notice' } } }),
        expect.objectContaining({ Message: 'foreign' }),
      ]);
      const missingExit = JSON.parse(run.events.filter((e) => e.type === 'TaskStateExited')[1].stateExitedEventDetails!.output!);
      expect(missingExit.missing).toEqual({ Error: 'SNS.NotFoundException', Cause: expect.stringMatching(/^Topic does not exist \(Service: AmazonSNS; Status Code: 404; Error Code: NotFound;/) });
      expect(missingExit.published.MessageId).toBe(messages[0].MessageId);
    });
  });
});

describe('retries without a pause', () => {
  let stack: TestStack;
  let sfn: SFNClient;
  let scratch: string;
  beforeAll(async () => {
    // Scale 0: every Retry interval is 0, the engine retries in the same turn of the event loop.
    stack = await startStatesStack({ services: ['lambda', 'states'], retryIntervalScale: 0 });
    sfn = sfnClient(stack);
    // Files the functions count their calls in: under the stack's data directory, which every
    // environment sees as it is (each has its own /tmp, as on Lambda).
    scratch = await mkdtemp(join(stack.dataDir, 'sfn-retry-'));
    await createFunction(stack, 'toolbox', { 'index.js': TOOLBOX_JS });
  });
  afterAll(async () => {
    sfn.destroy();
    await stack.dispose();
    await rm(scratch, { recursive: true, force: true });
  });

  it('records each attempt after the failure before it, in a Map iteration too', async () => {
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.files',
          ItemProcessor: {
            StartAt: 'Flaky',
            States: { Flaky: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'toolbox', Payload: { action: 'flaky', 'file.$': '$', failures: 3 } }, OutputPath: '$.Payload', Retry: [{ ErrorEquals: ['FlakyError'], MaxAttempts: 5 }], End: true } },
          },
          End: true,
        },
      },
    };
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'no-pause', definition: JSON.stringify(definition), roleArn: ROLE_ARN }));
    const files = [join(scratch, 'a'), join(scratch, 'b')];
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ files }) }));
    const described = await waitForEnd(sfn, executionArn!);
    expect(JSON.parse(described.output!)).toEqual([{ calls: 4 }, { calls: 4 }]);
    const events = (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events!;
    const byId = new Map(events.map((e) => [e.id!, e]));
    for (const end of events.filter((e) => e.type === 'MapIterationSucceeded')) {
      const chain: string[] = [];
      for (let at: HistoryEvent | undefined = end; at && at.type !== 'MapStateStarted'; at = byId.get(at.previousEventId!)) chain.unshift(at.type!);
      expect(chain).toEqual([
        'MapIterationStarted',
        'TaskStateEntered',
        ...Array.from({ length: 3 }, () => ['TaskScheduled', 'TaskStarted', 'TaskFailed']).flat(),
        'TaskScheduled',
        'TaskStarted',
        'TaskSucceeded',
        'TaskStateExited',
        'MapIterationSucceeded',
      ]);
    }
  });
});
