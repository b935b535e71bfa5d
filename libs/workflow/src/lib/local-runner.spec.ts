import { WorkflowError, WorkflowErrorName } from '@scones/payload-schemas';
import { LocalRunnerError } from '../errors';
import type { ExecutionOutcome } from './execution';
import type { LambdaHandler } from './lambda-invoke';
import { LocalWorkflowRunner } from './local-runner';
import { STATE_DATA_LIMIT_BYTES } from './task-failure';
import { buildBatchWorkflowDefinition, buildWorkflowDefinition, LOCAL_FUNCTION_NAMES, LOCAL_NOTIFY_TOPIC_ARN, WorkflowStateName as S } from './workflow-definition';

const OPTIONS = { functions: LOCAL_FUNCTION_NAMES, notifyTopicArn: LOCAL_NOTIFY_TOPIC_ARN };
const THRESHOLD = 0.8;
const IMAGE = Buffer.from('not really a png').toString('base64');

/** Per key: what the fake endpoint answers (a probability pair) or that the object is missing. */
const IMAGES: Record<string, number[] | 'missing'> = {
  'data/test/confident.png': [0.95, 0.05],
  'data/test/unsure.png': [0.6, 0.4],
  'data/test/motorcycle.png': [0.1, 0.9],
  'data/test/gone.png': 'missing',
};

interface Calls {
  serialize: number;
  classify: number;
  filter: number;
}

/**
 * Small stand-ins for the three Lambdas with the starter's contract (the real bundles run in the
 * slow integration test). `classifyFailures` makes the first n classify calls throw that error.
 */
function fakeLambdas(classifyFailures: { name: string; times: number } = { name: '', times: 0 }): { handlers: Record<string, LambdaHandler>; calls: Calls } {
  const calls: Calls = { serialize: 0, classify: 0, filter: 0 };
  let failuresLeft = classifyFailures.times;
  const handlers: Record<string, LambdaHandler> = {
    [LOCAL_FUNCTION_NAMES.serialize]: async (event) => {
      calls.serialize++;
      const { s3_bucket, s3_key } = event as { s3_bucket: string; s3_key: string };
      if (IMAGES[s3_key] === 'missing' || IMAGES[s3_key] === undefined) {
        throw new WorkflowError(WorkflowErrorName.ImageNotFound, `s3://${s3_bucket}/${s3_key}: no object with key "${s3_key}"`);
      }
      return { statusCode: 200, body: { image_data: IMAGE, s3_bucket, s3_key, inferences: [] } };
    },
    [LOCAL_FUNCTION_NAMES.classify]: async (event) => {
      calls.classify++;
      if (failuresLeft > 0) {
        failuresLeft--;
        throw Object.assign(new Error('the endpoint is busy'), { name: classifyFailures.name });
      }
      const { body } = event as { body: { s3_key: string } };
      return { statusCode: 200, body: { ...body, inferences: IMAGES[body.s3_key] } };
    },
    [LOCAL_FUNCTION_NAMES.filter]: async (event) => {
      calls.filter++;
      const { body } = event as { body: { inferences: number[] } };
      if (Math.max(...body.inferences) < THRESHOLD) throw new WorkflowError(WorkflowErrorName.ThresholdConfidenceNotMet, WorkflowErrorName.ThresholdConfidenceNotMet);
      return event;
    },
  };
  return { handlers, calls };
}

const input = (s3_key: string) => ({ image_data: '', s3_bucket: 'scones', s3_key });
/** State names in the order they were entered. */
const entered = (outcome: ExecutionOutcome) => outcome.history!.filter((e) => e.type === 'StateEntered').map((e) => e.stateName);

describe('LocalWorkflowRunner with the single-image definition', () => {
  const definition = buildWorkflowDefinition(OPTIONS);

  it('passes a confident image through Serialize → Classify → Filter and returns the filter result', async () => {
    const { handlers, calls } = fakeLambdas();
    const outcome = await new LocalWorkflowRunner(definition, { handlers }).execute(input('data/test/confident.png'), { name: 'run-1' });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.output).toEqual({ statusCode: 200, body: { image_data: IMAGE, s3_bucket: 'scones', s3_key: 'data/test/confident.png', inferences: [0.95, 0.05] } });
    expect(outcome.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:scones-workflow:run-1');
    expect(entered(outcome)).toEqual([S.Serialize, S.Classify, S.Filter]);
    expect(outcome.notifications).toEqual([]);
    expect(calls).toEqual({ serialize: 1, classify: 1, filter: 1 });
    // Entered/exited pairs with timestamps in order, ending with the execution.
    const types = outcome.history!.map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    const stamps = outcome.history!.map((e) => e.timestamp);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
    expect(outcome.history!.find((e) => e.type === 'StateExited' && e.stateName === S.Classify)?.output).toMatchObject({ body: { inferences: [0.95, 0.05] } });
  });

  it('fails a low-confidence image with THRESHOLD_CONFIDENCE_NOT_MET after notifying the topic', async () => {
    const { handlers } = fakeLambdas();
    const notified: string[] = [];
    const runner = new LocalWorkflowRunner(definition, { handlers, onNotification: (_n, arn) => notified.push(arn) });
    const outcome = await runner.execute(input('data/test/unsure.png'));
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('THRESHOLD_CONFIDENCE_NOT_MET');
    // The cause is the Lambda runtime's error response, as Step Functions reports it.
    expect(JSON.parse(outcome.cause!)).toEqual({ errorType: 'THRESHOLD_CONFIDENCE_NOT_MET', errorMessage: 'THRESHOLD_CONFIDENCE_NOT_MET', trace: expect.arrayContaining([expect.stringContaining('THRESHOLD_CONFIDENCE_NOT_MET')]) });
    expect(entered(outcome)).toEqual([S.Serialize, S.Classify, S.Filter, S.NotifyFailure, S.Fail]);
    expect(outcome.notifications).toHaveLength(1);
    const [notification] = outcome.notifications!;
    expect(notification).toMatchObject({ topicArn: LOCAL_NOTIFY_TOPIC_ARN, subject: 'Scones workflow execution failed' });
    expect(JSON.parse(notification.message)).toEqual({ execution: outcome.executionArn, input: input('data/test/unsure.png'), error: 'THRESHOLD_CONFIDENCE_NOT_MET', cause: outcome.cause });
    expect(notified).toEqual([outcome.executionArn]);
  });

  it('fails a missing key with ImageNotFound from Serialize, without classifying', async () => {
    const { handlers, calls } = fakeLambdas();
    const outcome = await new LocalWorkflowRunner(definition, { handlers }).execute(input('data/test/gone.png'));
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'ImageNotFound' });
    expect(JSON.parse(outcome.cause!).errorMessage).toContain('no object with key "data/test/gone.png"');
    expect(calls).toEqual({ serialize: 1, classify: 0, filter: 0 });
    expect(outcome.notifications).toHaveLength(1);
  });

  it('retries a transient endpoint failure on Classify and then succeeds', async () => {
    const { handlers, calls } = fakeLambdas({ name: 'ServiceUnavailable', times: 1 });
    const outcome = await new LocalWorkflowRunner(definition, { handlers, retryIntervalScale: 0.001 }).execute(input('data/test/confident.png'));
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.classify).toBe(2);
    expect(outcome.history!.filter((e) => e.type === 'StateRetried').map((e) => [e.stateName, e.retryAttempt])).toEqual([[S.Classify, 1]]);
    expect(outcome.history!.find((e) => e.type === 'StateFailed')).toMatchObject({ stateName: S.Classify, error: 'ServiceUnavailable' });
    expect(outcome.notifications).toEqual([]);
  });

  it('gives up after 3 retries of a persistent endpoint failure, with backoff', async () => {
    const { handlers, calls } = fakeLambdas({ name: 'ServiceUnavailable', times: 10 });
    const outcome = await new LocalWorkflowRunner(definition, { handlers, retryIntervalScale: 0.01 }).execute(input('data/test/confident.png'));
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'ServiceUnavailable' });
    expect(calls.classify).toBe(4);
    const failures = outcome.history!.filter((e) => e.type === 'StateFailed' && e.stateName === S.Classify).map((e) => e.timestamp);
    // Waits of 10, 20 and 40 ms (1, 2, 4 s scaled by 0.01): each gap longer than the one before it.
    const gaps = failures.slice(1).map((t, i) => t - failures[i]);
    expect(gaps).toHaveLength(3);
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[2]).toBeGreaterThanOrEqual(39);
  });

  it('does not retry a function error that is not transient', async () => {
    const { handlers, calls } = fakeLambdas({ name: 'EndpointResponseInvalid', times: 1 });
    const outcome = await new LocalWorkflowRunner(definition, { handlers, retryIntervalScale: 0.001 }).execute(input('data/test/confident.png'));
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'EndpointResponseInvalid' });
    expect(calls.classify).toBe(1);
  });

  it('reports an unknown function as Lambda.ResourceNotFoundException', async () => {
    const { handlers } = fakeLambdas();
    const { [LOCAL_FUNCTION_NAMES.filter]: _filter, ...withoutFilter } = handlers;
    const outcome = await new LocalWorkflowRunner(definition, { handlers: withoutFilter }).execute(input('data/test/confident.png'));
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'Lambda.ResourceNotFoundException' });
    expect(outcome.cause).toContain('Function not found: filter-lambda');
  });

  it('reports a handler that outlives the function timeout as Lambda.Unknown', async () => {
    const { handlers } = fakeLambdas();
    // Never settles: only the function timeout can end it, whatever the machine's speed.
    const slow: LambdaHandler = () => new Promise(() => undefined);
    const outcome = await new LocalWorkflowRunner(definition, { handlers: { ...handlers, [LOCAL_FUNCTION_NAMES.classify]: slow }, functionTimeoutMs: 20 }).execute(
      input('data/test/confident.png'),
    );
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'Lambda.Unknown' });
    expect(outcome.cause).toContain('Task timed out after 0.02 seconds');
  });

  it('fails with States.DataLimitExceeded, uncaught (no notification), when a step returns more than 256 KiB', async () => {
    const { handlers } = fakeLambdas();
    const huge: LambdaHandler = async () => ({ statusCode: 200, body: { image_data: 'A'.repeat(STATE_DATA_LIMIT_BYTES) } });
    const outcome = await new LocalWorkflowRunner(definition, { handlers: { ...handlers, [LOCAL_FUNCTION_NAMES.serialize]: huge } }).execute(input('data/test/confident.png'));
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(outcome.notifications).toEqual([]);
  });

  it('aborts an execution when the signal fires', async () => {
    const { handlers } = fakeLambdas();
    const controller = new AbortController();
    const stuck: LambdaHandler = () => {
      // The abort comes while the task runs; the task ends just after it (no timers left behind).
      return new Promise((resolve) =>
        setImmediate(() => {
          controller.abort();
          setImmediate(() => resolve({}));
        }),
      );
    };
    const outcome = await new LocalWorkflowRunner(definition, { handlers: { ...handlers, [LOCAL_FUNCTION_NAMES.serialize]: stuck } }).execute(input('data/test/confident.png'), {
      signal: controller.signal,
    });
    expect(outcome.status).toBe('ABORTED');
  });

  it('refuses a definition with a Task resource it cannot run locally', () => {
    const other = structuredClone(definition);
    Object.assign(other.States[S.Serialize], { Resource: 'arn:aws:states:::dynamodb:getItem' });
    expect(() => new LocalWorkflowRunner(other, { handlers: {} })).toThrow(LocalRunnerError);
    expect(() => new LocalWorkflowRunner(other, { handlers: {} })).toThrow(/state "Serialize": resource arn:aws:states:::dynamodb:getItem has no local implementation/);
  });

  it('refuses a definition the engine finds invalid, naming the problem', () => {
    const broken = structuredClone(definition);
    Object.assign(broken.States[S.Classify], { Next: 'Nowhere' });
    expect(() => new LocalWorkflowRunner(broken, { handlers: {} })).toThrow(/the definition cannot run: .*Nowhere/s);
  });
});

describe('LocalWorkflowRunner with the batch definition', () => {
  it('classifies every key, recording per-image errors without failing the batch', async () => {
    const { handlers } = fakeLambdas();
    const runner = new LocalWorkflowRunner(buildBatchWorkflowDefinition({ ...OPTIONS, maxConcurrency: 2 }), { handlers });
    const keys = ['data/test/confident.png', 'data/test/unsure.png', 'data/test/gone.png', 'data/test/motorcycle.png'];
    const outcome = await runner.execute({ s3_bucket: 'scones', s3_keys: keys });
    expect(outcome.status).toBe('SUCCEEDED');
    const { results, count, s3_bucket } = outcome.output as { results: Array<Record<string, unknown>>; count: number; s3_bucket: string };
    expect({ count, s3_bucket }).toEqual({ count: 4, s3_bucket: 'scones' });
    expect(results[0]).toEqual({ s3_key: keys[0], inferences: [0.95, 0.05] });
    expect(results[1]).toMatchObject({ s3_key: keys[1], error: 'THRESHOLD_CONFIDENCE_NOT_MET' });
    expect(JSON.parse(results[1].cause as string).errorType).toBe('THRESHOLD_CONFIDENCE_NOT_MET');
    expect(results[2]).toMatchObject({ s3_key: keys[2], error: 'ImageNotFound' });
    expect(results[3]).toEqual({ s3_key: keys[3], inferences: [0.1, 0.9] });
    // One Map iteration per key, and no notification for per-image failures.
    expect(outcome.history!.filter((e) => e.type === 'MapIterationStarted').map((e) => e.index).sort()).toEqual([0, 1, 2, 3]);
    expect(outcome.notifications).toEqual([]);
  });

  it('reports events live through onEvent, even without keeping the history', async () => {
    const { handlers } = fakeLambdas();
    const runner = new LocalWorkflowRunner(buildBatchWorkflowDefinition(OPTIONS), { handlers, history: false });
    const finished: number[] = [];
    const outcome = await runner.execute(
      { s3_bucket: 'scones', s3_keys: ['data/test/confident.png', 'data/test/unsure.png', 'data/test/gone.png'] },
      { onEvent: (event) => (event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed' ? finished.push(event.index!) : undefined) },
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.history).toBeUndefined();
    expect(finished.sort()).toEqual([0, 1, 2]);
  });

  it('retries a transient failure of one image inside the Map', async () => {
    const { handlers, calls } = fakeLambdas({ name: 'ThrottlingException', times: 1 });
    const runner = new LocalWorkflowRunner(buildBatchWorkflowDefinition(OPTIONS), { handlers, retryIntervalScale: 0.001 });
    const outcome = await runner.execute({ s3_bucket: 'scones', s3_keys: ['data/test/confident.png'] });
    expect((outcome.output as { results: unknown[] }).results).toEqual([{ s3_key: 'data/test/confident.png', inferences: [0.95, 0.05] }]);
    expect(calls.classify).toBe(2);
  });

  it('needs an S3 client to list s3_prefix, and says so', async () => {
    const { handlers } = fakeLambdas();
    const outcome = await new LocalWorkflowRunner(buildBatchWorkflowDefinition(OPTIONS), { handlers }).execute({ s3_bucket: 'scones', s3_prefix: 'data/test/' });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: expect.stringContaining('no S3 client') });
  });
});
