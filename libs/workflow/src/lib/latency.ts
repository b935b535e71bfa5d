/** Latency figures of a set of measurements, in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The nearest-rank percentile (`p` in 0..100) of ascending values: a value that was measured. */
export function percentile(ascending: readonly number[], p: number): number {
  if (ascending.length === 0) throw new RangeError('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: expected p in 0..100, got ${p}`);
  const rank = Math.max(1, Math.ceil((p / 100) * ascending.length));
  return ascending[rank - 1];
}

/** Summary of measurements (any order), or undefined when there are none. */
export function summarizeLatencies(values: readonly number[]): LatencySummary | undefined {
  if (values.length === 0) return undefined;
  const ascending = [...values].sort((a, b) => a - b);
  return {
    count: ascending.length,
    min: ascending[0],
    mean: ascending.reduce((sum, v) => sum + v, 0) / ascending.length,
    p50: percentile(ascending, 50),
    p90: percentile(ascending, 90),
    p99: percentile(ascending, 99),
    max: ascending[ascending.length - 1],
  };
}
