import type { WorkflowEvent } from '@scones/payload-schemas';

/** The execution input for one image, as the Udacity starter's `generate_test_case()` writes it. */
export function testCase(s3_bucket: string, s3_key: string): WorkflowEvent {
  return { image_data: '', s3_bucket, s3_key };
}

/**
 * `n` keys drawn independently and uniformly from `keys` (with replacement), like calling the
 * starter's `random.choice(objects)` `n` times.
 */
export function randomKeys(keys: readonly string[], n: number, random: () => number = Math.random): string[] {
  if (keys.length === 0) throw new RangeError('no keys to choose from');
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`expected a count >= 0, got ${n}`);
  return Array.from({ length: n }, () => keys[Math.min(keys.length - 1, Math.floor(random() * keys.length))]);
}
