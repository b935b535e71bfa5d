import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import type { Context } from 'aws-lambda';
import { localLambdaContext } from '@scones/local-cloud';
import { checkStateDataSize, TaskFailure } from './task-failure';

/** A Lambda handler as the Node.js runtime calls it (async style). */
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** What the `arn:aws:states:::lambda:invoke` integration returns for a successful invocation. */
export interface LambdaInvokeResult {
  ExecutedVersion: string;
  Payload: unknown;
  SdkHttpMetadata: { HttpStatusCode: number };
  SdkResponseMetadata: { RequestId: string };
  StatusCode: number;
}

export interface LambdaInvokerOptions {
  /** Handlers by function name (an ARN in FunctionName is matched by its function name too). */
  handlers: Readonly<Record<string, LambdaHandler>>;
  /** The function timeout: a handler still running after this fails the task. Default 60 s. */
  timeoutMs?: number;
  region?: string;
}

/** Lambda's limit on a synchronous invocation's request and response payloads. */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

// arn:aws:lambda:us-east-1:123456789012:function:name[:qualifier]
const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([^:]+)(?::[^:]+)?$/;

/** The function name of a FunctionName parameter (a name, `name:qualifier` or an ARN). */
export function functionNameOf(functionName: string): string {
  return FUNCTION_ARN.exec(functionName)?.[1] ?? functionName.split(':')[0];
}

/**
 * The cause Step Functions reports for an error a function threw: the Node.js runtime's error
 * response, `{"errorType", "errorMessage", "trace"}` as a JSON string.
 */
export function lambdaErrorCause(thrown: unknown, hostFiles: readonly string[] = []): { errorType: string; cause: string } {
  // The runtime reports a thrown non-Error by its type (e.g. `throw "x"` → errorType "string").
  const response =
    thrown instanceof Error
      ? { errorType: thrown.name, errorMessage: thrown.message, trace: functionFrames((thrown.stack ?? '').split('\n'), hostFiles) }
      : { errorType: typeof thrown, errorMessage: String(thrown), trace: [] as string[] };
  return { errorType: response.errorType, cause: JSON.stringify(response) };
}

/**
 * The stack lines up to the first frame of the host (the runner and the engine that called the
 * handler in this process), which a Lambda's trace would not have: V8's async stack traces follow
 * the awaits back into them.
 */
function functionFrames(lines: string[], hostFiles: readonly string[]): string[] {
  const end = lines.findIndex((line, i) => i > 0 && hostFiles.some((file) => line.includes(file)));
  return end < 0 ? lines : lines.slice(0, end);
}

/** Files whose frames are the host's, not the function's: this module and aws-local-stepfunctions. */
const HOST_FILES: readonly string[] = (() => {
  try {
    return [__filename, dirname(require.resolve('aws-local-stepfunctions'))];
  } catch {
    return [__filename];
  }
})();

/**
 * The `lambda:invoke` integration against in-process handlers: the task's Parameters
 * (`{FunctionName, Payload}`) in, `{Payload, StatusCode: 200, ExecutedVersion, ...}` out. The event
 * and the result go through JSON as they would over the wire. A thrown error fails the task with
 * the error's name and a Lambda-style JSON cause; an unknown function is
 * `Lambda.ResourceNotFoundException`; a handler that outlives `timeoutMs` is `Lambda.Unknown`
 * (what Step Functions reports for a function timeout).
 */
export function createLambdaInvoker(options: LambdaInvokerOptions): (parameters: unknown) => Promise<LambdaInvokeResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const region = options.region ?? 'us-east-1';
  return async (parameters) => {
    const requestId = randomUUID();
    const { FunctionName: functionName, Payload: payload } = (parameters ?? {}) as { FunctionName?: unknown; Payload?: unknown };
    if (typeof functionName !== 'string' || functionName === '') {
      throw new TaskFailure('States.Runtime', `lambda:invoke: Parameters.FunctionName: expected a function name or ARN, got ${JSON.stringify(functionName)}`);
    }
    const name = functionNameOf(functionName);
    const handler = options.handlers[functionName] ?? options.handlers[name];
    if (!handler) {
      const known = Object.keys(options.handlers).join(', ') || 'none';
      throw new TaskFailure(
        'Lambda.ResourceNotFoundException',
        `Function not found: ${functionName} (Service: Lambda, Status Code: 404, Request ID: ${requestId}) [local functions: ${known}]`,
      );
    }
    const request = JSON.stringify(payload ?? null);
    if (Buffer.byteLength(request) > LAMBDA_PAYLOAD_LIMIT_BYTES) {
      throw new TaskFailure(
        'Lambda.RequestTooLargeException',
        `Request must be smaller than ${LAMBDA_PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation (Service: Lambda, Status Code: 413, Request ID: ${requestId})`,
      );
    }
    const context = localLambdaContext(name, { awsRequestId: requestId, timeoutMs, region });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const payloadText = JSON.stringify({ errorMessage: `${new Date().toISOString()} ${requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` });
        reject(new TaskFailure('Lambda.Unknown', `The cause could not be determined because Lambda did not return an error type. Returned payload: ${payloadText}`));
      }, timeoutMs);
    });
    let response: string;
    try {
      // A handler that throws synchronously still fails the task like an async one.
      const result = await Promise.race([Promise.resolve().then(() => handler(JSON.parse(request), context)), timedOut]);
      response = JSON.stringify(result ?? null);
    } catch (error) {
      if (error instanceof TaskFailure) throw error;
      const { errorType, cause } = lambdaErrorCause(error, HOST_FILES);
      throw new TaskFailure(errorType, cause);
    } finally {
      clearTimeout(timer);
    }
    if (Buffer.byteLength(response) > LAMBDA_PAYLOAD_LIMIT_BYTES) {
      const cause = JSON.stringify({ errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${LAMBDA_PAYLOAD_LIMIT_BYTES} bytes).` });
      throw new TaskFailure('Function.ResponseSizeTooLarge', cause);
    }
    checkStateDataSize(response, `The function ${name}`);
    return {
      ExecutedVersion: '$LATEST',
      Payload: JSON.parse(response),
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: requestId },
      StatusCode: 200,
    };
  };
}
