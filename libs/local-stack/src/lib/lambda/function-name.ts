import { AwsError } from '@scones/stack-core';

/** The one version the local stack runs: every function is its unpublished `$LATEST`. */
export const LATEST = '$LATEST';

export interface FunctionReference {
  /** The function's name (`my-function`), whatever form the caller used. */
  name: string;
  /** `$LATEST`, a version number or an alias, when the reference or the Qualifier named one. */
  qualifier?: string;
}

// Lambda's FunctionName pattern (botocore's lambda service-2.json), anchored: a name, a partial ARN
// (`123456789012:function:name`) or a full ARN, each with an optional `:qualifier`.
const FUNCTION_REFERENCE =
  /^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d:)?(?:\d{12}:)?(?:function:)?([a-zA-Z0-9_-]+)(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/;

/**
 * Resolves what a caller passed as `FunctionName` (name, `name:qualifier`, partial ARN, full ARN
 * with any partition, region and account) to the function's name, so an ARN copied from AWS or a
 * state machine exported from another account reaches the stack's function of that name.
 */
export function parseFunctionReference(reference: string, qualifier?: string, field = 'functionName'): FunctionReference {
  const match = FUNCTION_REFERENCE.exec(reference);
  if (!match || reference.length > 170) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value '${reference}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
      400,
    );
  }
  const [, name, derived] = match;
  if (name.length > 64) throw new AwsError('InvalidParameterValueException', `Function name '${name}' is longer than 64 characters`, 400);
  if (derived !== undefined && qualifier !== undefined && qualifier !== '' && derived !== qualifier) {
    throw new AwsError('InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.', 400);
  }
  const chosen = derived ?? (qualifier === '' ? undefined : qualifier);
  return chosen === undefined ? { name } : { name, qualifier: chosen };
}

/** `arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]`. */
export function functionArn(region: string, accountId: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}
