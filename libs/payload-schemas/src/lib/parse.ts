import * as z from 'zod';
import { PayloadIssue, PayloadValidationError } from '../errors';

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

/** Turns zod's issues into one short line per field, without zod internals. */
export function toPayloadIssues(error: z.ZodError, input: unknown): PayloadIssue[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    const actual = valueAt(input, issue.path);
    // Messages set in the schemas say what was expected; zod's defaults start with "Invalid input".
    const custom = !issue.message.startsWith('Invalid input');
    if (issue.code === 'invalid_type' || issue.code === 'invalid_value') {
      const expected = custom
        ? issue.message
        : issue.code === 'invalid_type'
          ? `expected ${issue.expected}`
          : `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      if (actual === undefined && issue.path.length > 0) return { path, message: `is required (${expected})` };
      return { path, message: custom || issue.code === 'invalid_value' ? expected : `${expected}, got ${describeType(actual)}` };
    }
    if (issue.code === 'unrecognized_keys') {
      return { path, message: `unexpected field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` };
    }
    return { path, message: issue.message };
  });
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), input);
}

/**
 * Parses `value` with `schema` or throws one {@link PayloadValidationError} naming every bad field.
 * `what` names the payload in the message ("workflow event", "endpoint output", ...).
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new PayloadValidationError(what, toPayloadIssues(result.error, value));
}

/** Parses a JSON text, then the value; a syntax error is reported as a payload error too. */
export function parseJsonOrThrow<S extends z.ZodType>(schema: S, text: string, what: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PayloadValidationError(what, [{ path: '', message: `not valid JSON (${(error as Error).message})` }]);
  }
  return parseOrThrow(schema, value, what);
}
