import * as z from 'zod';
import { PayloadValidationError } from '../errors';
import { parseJsonOrThrow, parseOrThrow } from './parse';
import { nonEmptyString } from './primitives';

describe('parseOrThrow', () => {
  const schema = z.object({ s3_key: nonEmptyString, n: z.number(), nested: z.object({ list: z.array(z.number()) }) });

  it('returns the parsed value', () => {
    expect(parseOrThrow(schema, { s3_key: 'a', n: 1, nested: { list: [1] } }, 'thing')).toEqual({ s3_key: 'a', n: 1, nested: { list: [1] } });
  });

  it('names the payload, every bad field and what was wrong, in one error', () => {
    let error: unknown;
    try {
      parseOrThrow(schema, { s3_key: '', n: 'x', nested: { list: [1, 'b'] } }, 'workflow event');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PayloadValidationError);
    const e = error as PayloadValidationError;
    expect(e.name).toBe('PayloadValidationError');
    expect(e.what).toBe('workflow event');
    expect(e.message).toBe(
      'workflow event: s3_key: expected a non-empty string; n: expected number, got string; nested.list[1]: expected number, got string',
    );
    expect(e.message).not.toMatch(/invalid_type|ZodError|"code"/);
  });

  it('says a missing field is required', () => {
    expect(() => parseOrThrow(schema, { n: 1, nested: { list: [] } }, 'event')).toThrow('event: s3_key: is required (expected a non-empty string)');
  });

  it('reports a non-object input without a TypeError', () => {
    expect(() => parseOrThrow(schema, null, 'event')).toThrow('event: expected object, got null');
    expect(() => parseOrThrow(schema, 'text', 'event')).toThrow(PayloadValidationError);
  });
});

describe('parseJsonOrThrow', () => {
  it('reports invalid JSON as a payload error', () => {
    expect(() => parseJsonOrThrow(z.array(z.number()), '[0.1,', 'endpoint output')).toThrow(/^endpoint output: not valid JSON/);
  });
  it('parses valid JSON', () => {
    expect(parseJsonOrThrow(z.array(z.number()), '[0.25, 0.75]', 'endpoint output')).toEqual([0.25, 0.75]);
  });
});
