/**
 * The Task resources the stack serves, and how each appears in an execution's history:
 * service integrations as `TaskScheduled`/`TaskStarted`/`TaskSucceeded`/`TaskFailed` with their
 * `resourceType`/`resource`, a plain Lambda function ARN as `LambdaFunctionScheduled`/….
 */
export type TaskResource =
  | { kind: 'lambda-invoke'; resourceType: 'lambda'; resource: 'invoke'; service: 'lambda' }
  | { kind: 'lambda-function'; arn: string; functionName: string; qualifier?: string; service: 'lambda' }
  | { kind: 'sns-publish'; resourceType: 'sns'; resource: 'publish'; service: 'sns' }
  | { kind: 's3-list-objects-v2'; resourceType: 'aws-sdk:s3'; resource: 'listObjectsV2'; service: 's3' };

/** What the stack serves, for the error that refuses anything else. */
export const SUPPORTED_TASK_RESOURCES = [
  'arn:aws:states:::lambda:invoke',
  'arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]',
  'arn:aws:states:::sns:publish',
  'arn:aws:states:::aws-sdk:s3:listObjectsV2',
] as const;

const PARTITION = 'aws(?:-[a-z]+)*';
const INTEGRATION = new RegExp(`^arn:${PARTITION}:states:::(.+)$`);
// arn:aws:lambda:us-east-1:123456789012:function:name[:qualifier]; any region and account
const LAMBDA_FUNCTION_ARN = new RegExp(`^arn:${PARTITION}:lambda:([a-z0-9-]+):(\\d{12}):function:([A-Za-z0-9_-]{1,64})(?::(\\$LATEST|[A-Za-z0-9_-]{1,128}))?$`);

/**
 * What a Task state's `Resource` asks for, or a sentence saying why the stack cannot serve it
 * (callback and `.sync` patterns, activities, other services, other aws-sdk actions).
 */
export function classifyTaskResource(resource: string): TaskResource | { unsupported: string } {
  const lambda = LAMBDA_FUNCTION_ARN.exec(resource);
  if (lambda) {
    const [, , , functionName, qualifier] = lambda;
    return { kind: 'lambda-function', arn: resource, functionName, ...(qualifier ? { qualifier } : {}), service: 'lambda' };
  }
  const integration = INTEGRATION.exec(resource)?.[1];
  switch (integration) {
    case 'lambda:invoke':
      return { kind: 'lambda-invoke', resourceType: 'lambda', resource: 'invoke', service: 'lambda' };
    case 'sns:publish':
      return { kind: 'sns-publish', resourceType: 'sns', resource: 'publish', service: 'sns' };
    case 'aws-sdk:s3:listObjectsV2':
      return { kind: 's3-list-objects-v2', resourceType: 'aws-sdk:s3', resource: 'listObjectsV2', service: 's3' };
  }
  if (integration?.endsWith('.waitForTaskToken')) return { unsupported: `the callback pattern (${resource}) needs SendTaskSuccess/SendTaskFailure, which the local stack does not serve` };
  if (integration?.endsWith('.sync') || integration?.endsWith('.sync:2')) return { unsupported: `the run-a-job pattern (${resource}) is not served by the local stack` };
  if (/^arn:[^:]+:states:[^:]*:[^:]*:activity:/.test(resource)) return { unsupported: `activities (${resource}) need GetActivityTask workers, which the local stack does not serve` };
  if (/^arn:[^:]+:lambda:/.test(resource)) return { unsupported: `${resource} is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>])` };
  return { unsupported: `${resource} is not served by the local stack` };
}

