/** Base class of the workflow library's errors. */
export class WorkflowLibraryError extends Error {
  override readonly name: string = 'WorkflowLibraryError';
}

/** A definition cannot be built from the options given (an empty ARN, a bad MaxConcurrency). */
export class WorkflowDefinitionError extends WorkflowLibraryError {
  override readonly name = 'WorkflowDefinitionError';
}

/**
 * The local runner cannot run a definition: a Task resource it has no local implementation for,
 * or a configuration problem found before any execution starts.
 */
export class LocalRunnerError extends WorkflowLibraryError {
  override readonly name = 'LocalRunnerError';
}

/** A Lambda bundle (`dist/apps/<name>/main.js`) is missing, stale or has no `handler`. */
export class LambdaBundleError extends WorkflowLibraryError {
  override readonly name = 'LambdaBundleError';
}

/** Starting or following an execution on AWS Step Functions failed. */
export class StepFunctionsError extends WorkflowLibraryError {
  override readonly name = 'StepFunctionsError';
}
