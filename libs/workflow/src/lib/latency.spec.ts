import { percentile, summarizeLatencies } from './latency';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('picks measured values', () => {
    expect([percentile(hundred, 50), percentile(hundred, 90), percentile(hundred, 99), percentile(hundred, 100)]).toEqual([50, 90, 99, 100]);
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([7, 8, 9], 50)).toBe(8);
    expect(percentile([7, 8, 9, 10], 50)).toBe(8);
    expect(percentile([5], 99)).toBe(5);
  });

  it('rejects no values and p outside 0..100', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(/0\.\.100/);
  });
});

describe('summarizeLatencies', () => {
  it('summarises unsorted values without changing them', () => {
    const values = [30, 10, 20, 40];
    expect(summarizeLatencies(values)).toEqual({ count: 4, min: 10, mean: 25, p50: 20, p90: 40, p99: 40, max: 40 });
    expect(values).toEqual([30, 10, 20, 40]);
  });

  it('is undefined for no values', () => expect(summarizeLatencies([])).toBeUndefined());
});
