/** Base class of every error raised by @scones/local-cloud. */
export class LocalCloudError extends Error {
  override readonly name: string = 'LocalCloudError';
}

/** A target (local or aws) was asked for something it cannot give, e.g. local without an endpoint. */
export class TargetConfigError extends LocalCloudError {
  override readonly name = 'TargetConfigError';
}
