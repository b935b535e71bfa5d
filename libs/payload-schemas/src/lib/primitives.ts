import * as z from 'zod';

/** A string that must not be empty (S3 bucket names, keys, endpoint names). */
export const nonEmptyString = z
  .string({ error: 'expected a non-empty string' })
  .min(1, { error: 'expected a non-empty string' });

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard (RFC 4648, padded) base64 text, as Python's `base64.b64encode` writes it. */
export const base64String = z
  .string({ error: 'expected a base64 string' })
  .refine((s) => BASE64.test(s), { error: 'expected base64 data (A-Z, a-z, 0-9, +, /, = padding)' });

/** A probability in [0, 1]. */
export const probability = z
  .number({ error: 'expected a number between 0 and 1' })
  .min(0, { error: 'expected a probability >= 0' })
  .max(1, { error: 'expected a probability <= 1' });
