import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface LocalLambdaContextOptions {
  /** Default: a fresh UUID, as the Lambda runtime gives every invocation. */
  awsRequestId?: string;
  /** The function's timeout, for `getRemainingTimeInMillis()`. Default 30 s. */
  timeoutMs?: number;
  memoryLimitInMB?: number;
  region?: string;
}

/**
 * The invocation context the Lambda runtime passes a handler, for invoking a handler on the embedded
 * stack (the local workflow runner, tests): a request id for the logs, the function's name and ARN,
 * and the remaining time. The deprecated callback methods (`done`, `fail`, `succeed`) throw.
 */
export function localLambdaContext(functionName: string, options: LocalLambdaContextOptions = {}): Context {
  const { awsRequestId = randomUUID(), timeoutMs = 30_000, memoryLimitInMB = 128, region = 'us-east-1' } = options;
  const deadline = Date.now() + timeoutMs;
  const unsupported = (): never => {
    throw new Error(`${functionName}: the callback-style context methods (done, fail, succeed) are not supported; return a promise`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryLimitInMB),
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${awsRequestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
