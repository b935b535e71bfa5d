/**
 * An error the stack answers with, in the shape of the AWS service that raised it: the `code` is
 * AWS's error code (`ValidationException`, `ResourceNotFound`, `NoSuchKey`…), `status` its HTTP
 * status. Each protocol (JSON, REST-JSON, REST-XML, query) renders it as that protocol's SDKs
 * parse it, so `error.name` in the JS SDK and `error.response['Error']['Code']` in boto3 are `code`.
 */
export class AwsError extends Error {
  override readonly name = 'AwsError';

  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Extra members of the error body (S3: `Key`, `BucketName`; runtime: `OriginalStatusCode`…). */
    readonly fields: Record<string, string | number> = {},
    /** Extra response headers. */
    readonly headers: Record<string, string> = {},
    /** `Sender` (the caller's fault) or `Receiver`; query protocol errors carry it. */
    readonly fault: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
  }
}

/** `ValidationException` (400) — the common AWS answer to a bad parameter. */
export function validationError(message: string): AwsError {
  return new AwsError('ValidationException', message, 400);
}

/** An unexpected failure inside the stack: 500 `InternalFailure`, the message kept for the caller. */
export function internalError(error: unknown): AwsError {
  if (error instanceof AwsError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AwsError('InternalFailure', `the local stack failed: ${message}`, 500);
}
