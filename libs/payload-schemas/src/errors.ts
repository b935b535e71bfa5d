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
