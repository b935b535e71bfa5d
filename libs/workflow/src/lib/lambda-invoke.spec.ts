import type { Context } from 'aws-lambda';
import { TaskFailure } from './task-failure';
import { createLambdaInvoker, functionNameOf, lambdaErrorCause, LAMBDA_PAYLOAD_LIMIT_BYTES, type LambdaHandler } from './lambda-invoke';

async function failureOf(promise: Promise<unknown>): Promise<TaskFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TaskFailure) return error;
    throw error;
  }
  throw new Error('expected the invocation to fail');
}

describe('functionNameOf', () => {
  it.each([
    ['serialize-lambda', 'serialize-lambda'],
    ['serialize-lambda:live', 'serialize-lambda'],
    ['arn:aws:lambda:eu-west-1:123456789012:function:scones-serialize', 'scones-serialize'],
    ['arn:aws:lambda:eu-west-1:123456789012:function:scones-serialize:$LATEST', 'scones-serialize'],
  ])('%s → %s', (functionName, name) => expect(functionNameOf(functionName)).toBe(name));
});

describe('lambdaErrorCause', () => {
  it("reports an Error by its name, message and stack, like the Node.js runtime", () => {
    const error = Object.assign(new Error('no such key'), { name: 'ImageNotFound' });
    const { errorType, cause } = lambdaErrorCause(error);
    expect(errorType).toBe('ImageNotFound');
    expect(Object.keys(JSON.parse(cause))).toEqual(['errorType', 'errorMessage', 'trace']);
    expect(JSON.parse(cause)).toEqual({ errorType: 'ImageNotFound', errorMessage: 'no such key', trace: error.stack!.split('\n') });
  });

  it("keeps only the function's frames: the trace ends before the first frame of the host", () => {
    const error = new Error('boom');
    error.stack = ['Error: boom', '    at fn (/var/task/main.js:1:10)', '    at async overrideFn (/host/runner.js:5:5)', '    at async run (/host/engine.js:9:9)'].join('\n');
    expect(JSON.parse(lambdaErrorCause(error, ['/host/runner.js']).cause).trace).toEqual(['Error: boom', '    at fn (/var/task/main.js:1:10)']);
  });

  it('reports a thrown non-Error by its type', () => {
    expect(JSON.parse(lambdaErrorCause('just a string').cause)).toEqual({ errorType: 'string', errorMessage: 'just a string', trace: [] });
  });
});

describe('createLambdaInvoker', () => {
  it('answers like the lambda:invoke integration and passes the event through JSON with a Lambda context', async () => {
    let seen: { event?: unknown; context?: Context } = {};
    const handler: LambdaHandler = async (event, context) => {
      seen = { event, context };
      return { statusCode: 200, at: new Date(0) };
    };
    const invoke = createLambdaInvoker({ handlers: { 'my-fn': handler }, timeoutMs: 5_000 });
    const result = await invoke({ FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:my-fn', Payload: { n: 1, skip: undefined } });
    expect(result).toEqual({
      ExecutedVersion: '$LATEST',
      Payload: { statusCode: 200, at: '1970-01-01T00:00:00.000Z' },
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      StatusCode: 200,
    });
    expect(seen.event).toEqual({ n: 1 });
    expect(seen.context).toMatchObject({ functionName: 'my-fn', awsRequestId: result.SdkResponseMetadata.RequestId });
    expect(seen.context!.getRemainingTimeInMillis()).toBeGreaterThan(4_000);
  });

  it('returns a null Payload when the handler returns nothing', async () => {
    const invoke = createLambdaInvoker({ handlers: { f: async () => undefined } });
    expect((await invoke({ FunctionName: 'f', Payload: {} })).Payload).toBeNull();
  });

  it('fails with the error name and a Lambda-style cause when the handler throws, synchronously or not', async () => {
    const invoke = createLambdaInvoker({
      handlers: {
        async: async () => {
          throw Object.assign(new Error('below threshold'), { name: 'THRESHOLD_CONFIDENCE_NOT_MET' });
        },
        sync: (() => {
          throw new TypeError('bad');
        }) as unknown as LambdaHandler,
      },
    });
    const asyncFailure = await failureOf(invoke({ FunctionName: 'async', Payload: {} }));
    expect(asyncFailure.name).toBe('THRESHOLD_CONFIDENCE_NOT_MET');
    expect(JSON.parse(asyncFailure.message)).toMatchObject({ errorType: 'THRESHOLD_CONFIDENCE_NOT_MET', errorMessage: 'below threshold' });
    expect((await failureOf(invoke({ FunctionName: 'sync', Payload: {} }))).name).toBe('TypeError');
    // The trace is the handler's: no frame of this module (the host) follows it.
    const trace: string[] = JSON.parse(asyncFailure.message).trace;
    expect(trace.some((line) => line.includes('lambda-invoke.spec.ts'))).toBe(true);
    expect(trace.some((line) => line.includes('lambda-invoke.ts:'))).toBe(false);
  });

  it('fails with Lambda.ResourceNotFoundException for an unknown function, naming the known ones', async () => {
    const failure = await failureOf(createLambdaInvoker({ handlers: { a: async () => 1 } })({ FunctionName: 'b', Payload: {} }));
    expect(failure.name).toBe('Lambda.ResourceNotFoundException');
    expect(failure.message).toMatch(/^Function not found: b \(Service: Lambda, Status Code: 404, Request ID: .+\) \[local functions: a\]$/);
  });

  it('fails with States.Runtime when FunctionName is missing', async () => {
    const failure = await failureOf(createLambdaInvoker({ handlers: {} })({ Payload: {} }));
    expect(failure.name).toBe('States.Runtime');
    expect(failure.message).toContain('Parameters.FunctionName');
  });

  it('refuses a request over the 6 MB synchronous payload limit without calling the handler', async () => {
    const handler = jest.fn(async () => 1);
    const failure = await failureOf(createLambdaInvoker({ handlers: { f: handler } })({ FunctionName: 'f', Payload: 'x'.repeat(LAMBDA_PAYLOAD_LIMIT_BYTES) }));
    expect(failure.name).toBe('Lambda.RequestTooLargeException');
    expect(handler).not.toHaveBeenCalled();
  });

  it('marks a result over 256 KiB as a terminal States.DataLimitExceeded', async () => {
    const failure = await failureOf(createLambdaInvoker({ handlers: { f: async () => 'x'.repeat(300 * 1024) } })({ FunctionName: 'f', Payload: {} }));
    expect(failure).toMatchObject({ name: 'States.DataLimitExceeded', isCatchable: false, isRetryable: false });
  });
});
