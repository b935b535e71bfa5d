import type * as z from 'zod';
import { toPayloadIssues } from '@scones/payload-schemas';
import { AwsError } from '../aws-error';

/**
 * Parses an operation's input with a zod schema, or throws AWS's `ValidationException` in AWS's
 * wording: `2 validation errors detected: Value at 'EndpointName' failed to satisfy constraint: …`,
 * one clause per bad field, each naming the field.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, operation: string, code = 'ValidationException'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = toPayloadIssues(result.error, input);
  const clauses = issues.map((issue) => `Value at '${issue.path || '(input)'}' failed to satisfy constraint: ${issue.message}`);
  const count = `${clauses.length} validation error${clauses.length === 1 ? '' : 's'} detected`;
  throw new AwsError(code, `${operation}: ${count}: ${clauses.join('; ')}`, 400);
}
