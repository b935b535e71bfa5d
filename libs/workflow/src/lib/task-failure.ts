/**
 * How a local Task implementation fails a state the way Step Functions would: `name` becomes the
 * state's Error (what Retry and Catch match) and `message` its Cause. aws-local-stepfunctions reads
 * exactly these two (and `isRetryable` / `isCatchable`), so no `cause` property is set: the engine
 * would report that instead of the message.
 */
export class TaskFailure extends Error {
  readonly isRetryable: boolean;
  readonly isCatchable: boolean;

  constructor(error: string, cause: string, options: { terminal?: boolean } = {}) {
    super(cause);
    this.name = error;
    // Terminal errors (States.DataLimitExceeded) can be neither retried nor caught, as on AWS.
    this.isRetryable = !options.terminal;
    this.isCatchable = !options.terminal;
  }
}

/** Step Functions' limit on the data a state passes on (input or output), in UTF-8 bytes. */
export const STATE_DATA_LIMIT_BYTES = 256 * 1024;

/** Fails like Step Functions when a task result is larger than {@link STATE_DATA_LIMIT_BYTES}. */
export function checkStateDataSize(json: string, what: string): void {
  const bytes = Buffer.byteLength(json);
  if (bytes > STATE_DATA_LIMIT_BYTES) {
    throw new TaskFailure(
      'States.DataLimitExceeded',
      `${what} returned a result with a size (${bytes} bytes) exceeding the maximum number of bytes service limit (${STATE_DATA_LIMIT_BYTES}).`,
      { terminal: true },
    );
  }
}
