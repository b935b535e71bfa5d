import type { WorkflowErrorName } from './lib/workflow-errors';

/** One problem found in a payload: where (dotted path) and what was wrong. */
export interface PayloadIssue {
  path: string;
  message: string;
}

/**
 * Thrown when a message crossing a process boundary does not have the expected shape.
 * The message names the payload, each offending field and what was wrong, e.g.
 * `workflow event: s3_key: expected a non-empty string`.
 */
export class PayloadValidationError extends Error {
  override readonly name = 'PayloadValidationError';
  constructor(
    /** What was being parsed, e.g. "workflow event". */
    readonly what: string,
    readonly issues: PayloadIssue[],
  ) {
    super(`${what}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
  }
}

/**
 * An error a Lambda of the workflow throws on purpose. Its `name` is one of {@link WorkflowErrorName}:
 * the Lambda runtime reports `name` as the `errorType`, which Step Functions shows as the state's
 * error and which the state machine's Catch/Retry match.
 */
export class WorkflowError extends Error {
  constructor(
    override readonly name: WorkflowErrorName,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
