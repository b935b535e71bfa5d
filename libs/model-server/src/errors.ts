/** Base class of every error raised by @scones/model-server. */
export class ModelServerError extends Error {
  override readonly name: string = 'ModelServerError';
}

/** More requests are waiting for the model than the queue limit allows (answered 429). */
export class QueueFullError extends ModelServerError {
  override readonly name = 'QueueFullError';
}

/** The model did not answer within the inference timeout (answered 500, the model keeps running). */
export class InferenceTimeoutError extends ModelServerError {
  override readonly name = 'InferenceTimeoutError';
}

/** The model failed or answered something that is not one probability array per image (answered 500). */
export class ModelInferenceError extends ModelServerError {
  override readonly name = 'ModelInferenceError';
}

/** A request body is larger than the configured limit (answered 413). */
export class PayloadTooLargeError extends ModelServerError {
  override readonly name = 'PayloadTooLargeError';
  constructor(
    readonly limit: number,
    readonly received: number,
  ) {
    super(`request body of ${received} bytes or more exceeds the ${limit}-byte limit`);
  }
}

/** Capture records could not be written to their destination, even after retrying. */
export class CaptureWriteError extends ModelServerError {
  override readonly name = 'CaptureWriteError';
}

/** A server option has a value it cannot work with. */
export class ModelServerConfigError extends ModelServerError {
  override readonly name = 'ModelServerConfigError';
}
