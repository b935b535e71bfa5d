/** Base class of every error raised by @scones/local-cloud. */
export class LocalCloudError extends Error {
  override readonly name: string = 'LocalCloudError';
}

/** The embedded S3 server could not start (port taken, directory not writable, ...). */
export class LocalS3StartError extends LocalCloudError {
  override readonly name = 'LocalS3StartError';
}

/** A target (local or aws) was asked for something it cannot give, e.g. local without an endpoint. */
export class TargetConfigError extends LocalCloudError {
  override readonly name = 'TargetConfigError';
}
