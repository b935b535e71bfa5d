import { randomUUID } from 'node:crypto';
import { checkStateDataSize, LAMBDA_PAYLOAD_LIMIT_BYTES, TaskFailure, type LambdaInvokeResult } from '@scones/workflow';
import { AwsError } from '@scones/stack-core';
import type { LambdaInvokeResult as LambdaInvocation, LambdaService } from '../lambda';

// Any partition, region and account: a definition exported from another account still names the
// stack's function of that name. Also `name:qualifier` and the partial `123456789012:function:name`.
const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]+)(?::([^:]+))?$/;
const PARTIAL_ARN = /^\d{12}:function:([A-Za-z0-9_-]+)(?::([^:]+))?$/;
const NAME = /^([A-Za-z0-9_-]+)(?::([^:]+))?$/;

/** The function name and qualifier a FunctionName parameter (name, ARN, partial ARN, `name:alias`) names. */
export function resolveFunctionName(functionName: string): { name: string; qualifier?: string } | undefined {
  const match = FUNCTION_ARN.exec(functionName) ?? PARTIAL_ARN.exec(functionName) ?? NAME.exec(functionName);
  if (!match) return undefined;
  // $LATEST is what an unqualified name invokes.
  return { name: match[1], ...(match[2] && match[2] !== '$LATEST' ? { qualifier: match[2] } : {}) };
}

export interface LambdaTaskContext {
  /** The Lambda service, or undefined when the stack runs without it. */
  lambda: LambdaService | undefined;
  /** The execution's region: ARNs in causes are written in it. */
  region: string;
  accountId: string;
  /** The Task state, for the data-limit error. */
  stateName: string;
}

/**
 * `arn:aws:states:::lambda:invoke`: Parameters `{FunctionName, Payload, Qualifier, InvocationType,
 * LogType}` in, the integration's `{ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata,
 * StatusCode}` out. A function error fails the task with the payload's `errorType` (what Retry
 * and Catch match) and the payload as cause; a Lambda service error as `Lambda.<Code>`.
 */
export async function invokeLambdaIntegration(parameters: unknown, context: LambdaTaskContext): Promise<LambdaInvokeResult & { LogResult?: string }> {
  const params = (parameters ?? {}) as Record<string, unknown>;
  const functionName = params.FunctionName;
  if (typeof functionName !== 'string' || functionName === '') {
    throw new TaskFailure('States.Runtime', `lambda:invoke: Parameters.FunctionName: expected a function name or ARN, got ${JSON.stringify(functionName)}`, { terminal: true });
  }
  const target = resolveFunctionName(functionName);
  if (!target) {
    throw new TaskFailure('Lambda.InvalidParameterValueException', `FunctionName ${JSON.stringify(functionName)} is neither a function name nor a Lambda function ARN (a DefinitionSubstitutions placeholder left in the definition?) (Service: AWSLambda; Status Code: 400; Error Code: InvalidParameterValueException)`);
  }
  const qualifier = typeof params.Qualifier === 'string' && params.Qualifier !== '$LATEST' ? params.Qualifier : target.qualifier;
  const invocationType = params.InvocationType === undefined ? 'RequestResponse' : params.InvocationType;
  if (invocationType !== 'RequestResponse' && invocationType !== 'Event' && invocationType !== 'DryRun') {
    throw new TaskFailure('Lambda.InvalidParameterValueException', `InvocationType: expected RequestResponse, Event or DryRun, got ${JSON.stringify(invocationType)} (Service: AWSLambda; Status Code: 400)`);
  }
  // Step Functions sends the Payload value as JSON; without one the function gets `{}`.
  const request = params.Payload === undefined ? '{}' : JSON.stringify(params.Payload);
  const logType = params.LogType === 'Tail' ? 'Tail' : 'None';
  const invocation = await invoke(context, target.name, qualifier, request, invocationType, logType);
  const text = payloadText(invocation.payload);
  if (invocation.functionError) {
    const { error, cause } = functionFailure(text, true);
    throw new TaskFailure(error, cause);
  }
  const requestId = randomUUID();
  const executedVersion = invocation.executedVersion ?? '$LATEST';
  const result = {
    ExecutedVersion: executedVersion,
    ...(logType === 'Tail' && invocation.logResult ? { LogResult: invocation.logResult } : {}),
    // A payload that is not JSON stays the string the function returned.
    Payload: text === '' ? '' : parseOrText(text),
    SdkHttpMetadata: {
      HttpHeaders: { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': executedVersion, 'x-amzn-RequestId': requestId },
      HttpStatusCode: invocation.statusCode,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: invocation.statusCode,
  };
  checkStateDataSize(JSON.stringify(result), `The state/task '${context.stateName}'`);
  return result;
}

/**
 * A Task whose Resource is a Lambda function ARN: the state's input is the event, the function's
 * result is the task's result (no wrapper); errors as for lambda:invoke, the cause being the payload
 * exactly as the function's runtime wrote it.
 */
export async function invokeLambdaFunction(functionArn: string, input: unknown, context: LambdaTaskContext): Promise<unknown> {
  const target = resolveFunctionName(functionArn);
  if (!target) throw new TaskFailure('States.Runtime', `${functionArn} is not a Lambda function ARN`, { terminal: true });
  const invocation = await invoke(context, target.name, target.qualifier, JSON.stringify(input ?? null), 'RequestResponse', 'None');
  const text = payloadText(invocation.payload);
  if (invocation.functionError) {
    const { error, cause } = functionFailure(text, false);
    throw new TaskFailure(error, cause);
  }
  checkStateDataSize(text, `The state/task '${context.stateName}'`);
  return text === '' ? null : parseOrText(text);
}

async function invoke(context: LambdaTaskContext, name: string, qualifier: string | undefined, request: string, invocationType: 'RequestResponse' | 'Event' | 'DryRun', logType: 'None' | 'Tail'): Promise<LambdaInvocation> {
  const requestId = randomUUID();
  const functionArn = `arn:aws:lambda:${context.region}:${context.accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
  if (!context.lambda) throw new TaskFailure('Lambda.ServiceException', `the local stack runs without its lambda service, so ${functionArn} cannot be invoked (Service: AWSLambda; Status Code: 503; Error Code: ServiceException; Request ID: ${requestId}; Proxy: null)`);
  const size = Buffer.byteLength(request);
  if (size > LAMBDA_PAYLOAD_LIMIT_BYTES) {
    throw new TaskFailure('Lambda.RequestTooLargeException', `Request must be smaller than ${LAMBDA_PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation (Service: AWSLambda; Status Code: 413; Error Code: RequestTooLargeException; Request ID: ${requestId}; Proxy: null)`);
  }
  try {
    return await context.lambda.invoke(name, Buffer.from(request), { invocationType, logType, region: context.region, ...(qualifier ? { qualifier } : {}) });
  } catch (error) {
    // Lambda's service errors, named as the Step Functions integration names them.
    if (error instanceof AwsError) {
      const code = error.code.endsWith('Exception') ? error.code : `${error.code}Exception`;
      throw new TaskFailure(`Lambda.${code}`, `${error.message} (Service: AWSLambda; Status Code: ${error.status}; Error Code: ${error.code}; Request ID: ${requestId}; Proxy: null)`);
    }
    throw new TaskFailure('Lambda.ServiceException', `the local Lambda service failed to invoke ${functionArn}: ${(error as Error).message ?? String(error)} (Service: AWSLambda; Status Code: 500; Error Code: ServiceException; Request ID: ${requestId}; Proxy: null)`);
  }
}

/**
 * The error and cause of a function error: the payload's `errorType` (what Retry and Catch match),
 * or `Lambda.Unknown` when it has none (a function timeout). The lambda:invoke integration writes
 * the payload back as compact JSON; a plain function ARN keeps it as the runtime wrote it.
 */
function functionFailure(text: string, reserialize: boolean): { error: string; cause: string } {
  const parsed = parseOrText(text);
  const errorType = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as { errorType?: unknown }).errorType : undefined;
  if (typeof errorType !== 'string' || errorType === '') {
    return { error: 'Lambda.Unknown', cause: `The cause could not be determined because Lambda did not return an error type. Returned payload: ${text}` };
  }
  return { error: errorType, cause: reserialize && typeof parsed === 'object' ? JSON.stringify(parsed) : text };
}

function payloadText(payload: Buffer | undefined): string {
  return payload === undefined ? '' : payload.toString('utf8');
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
