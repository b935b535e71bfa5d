import {
  chiSquareCriticalValue,
  chiSquareHomogeneity,
  chiSquareSurvival,
  describeDistribution,
  histogram,
  kolmogorovSmirnov,
  kolmogorovSurvival,
  logGamma,
  populationStabilityIndex,
  quantileSorted,
  regularizedGammaQ,
} from './statistics';
import { normalSample, seededRandom } from './synthetic-traffic';

// Reference values computed with SciPy 1.17 (scipy.stats / scipy.special).
describe('special functions', () => {
  it('match SciPy', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(regularizedGammaQ(2.5, 1.5)).toBeCloseTo(0.6999858358786276, 10);
    expect(regularizedGammaQ(10, 3)).toBeCloseTo(0.9988975118698845, 10);
    expect(regularizedGammaQ(0.5, 20) / 2.5396285894708634e-10).toBeCloseTo(1, 6);
    expect(chiSquareSurvival(6.666666666666667, 1)).toBeCloseTo(0.009823274507519235, 10);
    expect(chiSquareSurvival(20, 9)).toBeCloseTo(0.017912404529843298, 10);
    expect(chiSquareSurvival(3, 4)).toBeCloseTo(0.5578254003710748, 10);
    expect(chiSquareSurvival(50, 3) / 7.989179244951495e-11).toBeCloseTo(1, 6);
    expect(chiSquareSurvival(0.5, 7)).toBeCloseTo(0.9994464813904249, 10);
    expect(chiSquareCriticalValue(0.01, 9)).toBeCloseTo(21.665994333461924, 6);
    expect(kolmogorovSurvival(0.5)).toBeCloseTo(0.963945244, 6);
    expect(kolmogorovSurvival(1.0)).toBeCloseTo(0.269999672, 6);
    expect(kolmogorovSurvival(1.6276)).toBeCloseTo(0.0100015373, 6);
    expect(kolmogorovSurvival(2.0)).toBeCloseTo(0.000670925256, 8);
  });
});

describe('quantiles, distributions, histograms', () => {
  it('interpolate like numpy', () => {
    const sorted = [1, 2, 3, 10];
    expect([0, 0.25, 0.5, 0.9, 1].map((p) => quantileSorted(sorted, p))).toEqual([1, 1.75, 2.5, expect.closeTo(7.9, 12), 10]);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
  it('describe a sample', () => {
    const d = describeDistribution([4, 1, 3, 2]);
    expect(d).toMatchObject({ count: 4, mean: 2.5, min: 1, max: 4, p50: 2.5 });
    expect(d.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(describeDistribution([]).count).toBe(0);
  });
  it('bin values, clamping the edges', () => {
    const bins = histogram([0, 0.1, 0.5, 0.99, 1, 1.5, -1], 0, 1, 4);
    expect(bins.map((b) => b.count)).toEqual([3, 0, 1, 3]);
    expect(bins[3]).toMatchObject({ start: 0.75, end: 1 });
  });
});

describe('kolmogorovSmirnov', () => {
  it('computes D with ties like SciPy', () => {
    const result = kolmogorovSmirnov([0.1, 0.2, 0.2, 0.4, 0.5, 0.6, 0.9], [0.15, 0.2, 0.3, 0.35, 0.8]);
    expect(result.statistic).toBeCloseTo(0.37142857142857144, 12);
    expect(kolmogorovSmirnov([1, 2, 3], [4, 5, 6]).statistic).toBe(1);
    expect(kolmogorovSmirnov([1, 2, 3], [1, 2, 3]).statistic).toBe(0);
  });
  it('is calibrated: about 5 % of same-distribution pairs have p < 0.05, shifted ones almost always', () => {
    const random = seededRandom(7);
    const sample = (shift: number, n: number) => Array.from({ length: n }, () => normalSample(random) + shift);
    let sameRejected = 0;
    let shiftedRejected = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      if (kolmogorovSmirnov(sample(0, 80), sample(0, 120)).pValue < 0.05) sameRejected += 1;
      if (kolmogorovSmirnov(sample(0, 80), sample(0.8, 120)).pValue < 0.05) shiftedRejected += 1;
    }
    expect(sameRejected / trials).toBeGreaterThan(0.015);
    expect(sameRejected / trials).toBeLessThan(0.08);
    expect(shiftedRejected / trials).toBeGreaterThan(0.95);
  });
});

describe('chiSquareHomogeneity', () => {
  it('matches scipy.stats.chi2_contingency (no continuity correction)', () => {
    const two = chiSquareHomogeneity([10, 20], [20, 10]);
    expect(two.statistic).toBeCloseTo(6.666666666666667, 12);
    expect(two.pValue).toBeCloseTo(0.009823274507519235, 10);
    expect(two.degreesOfFreedom).toBe(1);
    const three = chiSquareHomogeneity([30, 50, 20], [10, 60, 30]);
    expect(three.statistic).toBeCloseTo(12.909090909090908, 10);
    expect(three.pValue).toBeCloseTo(0.0015733542800576339, 10);
  });
  it('drops categories empty on both sides and handles an empty side', () => {
    expect(chiSquareHomogeneity([10, 0, 20], [20, 0, 10]).degreesOfFreedom).toBe(1);
    expect(chiSquareHomogeneity([10, 20], [0, 0])).toMatchObject({ statistic: 0, pValue: 1 });
  });
});

describe('populationStabilityIndex', () => {
  it('is near zero for the same distribution and large for a shifted one', () => {
    const random = seededRandom(3);
    const reference = Array.from({ length: 5000 }, () => normalSample(random));
    const same = Array.from({ length: 5000 }, () => normalSample(random));
    const shifted = Array.from({ length: 5000 }, () => normalSample(random) + 1);
    const stable = populationStabilityIndex(reference, same);
    expect(stable.bins).toBe(10);
    expect(stable.statistic).toBeLessThan(0.02);
    expect(stable.pValue).toBeGreaterThan(0.001);
    const moved = populationStabilityIndex(reference, shifted);
    expect(moved.statistic).toBeGreaterThan(0.5);
    expect(moved.pValue).toBeLessThan(1e-10);
  });
  it('merges bins whose quantile edges coincide (confidences piled up at 1.0)', () => {
    const reference = [...Array.from({ length: 60 }, () => 1), ...Array.from({ length: 40 }, (_, i) => 0.5 + i / 100)];
    const result = populationStabilityIndex(reference, reference);
    expect(result.bins).toBeLessThan(10);
    expect(result.statistic).toBeCloseTo(0, 12);
    // Everything at 1.0 lands in the last bin: a large shift from 60 % to 100 %.
    expect(populationStabilityIndex(reference, Array.from({ length: 100 }, () => 1)).statistic).toBeGreaterThan(0.2);
  });
});
