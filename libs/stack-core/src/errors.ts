/** Base class of the local stack's own errors (not the AWS errors it answers with: see AwsError). */
export class LocalStackError extends Error {
  override readonly name: string = 'LocalStackError';
}

/** The stack cannot start: port in use, data directory unusable, another stack on the same data. */
export class StackStartError extends LocalStackError {
  override readonly name: string = 'StackStartError';
}

/** A second stack on the same data directory, or an instance file that cannot be trusted. */
export class StackInstanceError extends LocalStackError {
  override readonly name: string = 'StackInstanceError';
}
