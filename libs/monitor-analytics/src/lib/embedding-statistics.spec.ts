import { applyWhitening, fitWhitening, matrixFromRows, meanNeighbourDistances, principalAxes, rankPermutationTest, savageScores } from './embedding-statistics';
import { seededRandom } from './random';
import { normalSample } from './synthetic-traffic';

const sample = (random: () => number, n: number, draw: (random: () => number) => number) => Float64Array.from({ length: n }, () => draw(random));
const normal = (shift = 0) => (random: () => number) => normalSample(random) + shift;

describe('rankPermutationTest', () => {
  it('has the false-alarm rate it promises when both samples come from one distribution', () => {
    const random = seededRandom(1);
    let alarms = 0;
    const runs = 400;
    // Small samples, the test's own regime: no normal approximation to lean on.
    for (let i = 0; i < runs; i++) {
      const test = rankPermutationTest(sample(random, 40, normal()), sample(random, 60, normal()), { permutations: 99, random });
      if (test.pValue <= 0.05) alarms += 1;
    }
    // Binomial(400, 0.05): mean 20; 34 or more has probability < 0.2 %, and a test that never fires is broken too.
    expect(alarms).toBeLessThan(34);
    expect(alarms).toBeGreaterThan(7);
  });

  it('keeps its level at a Bonferroni-sized alpha with the report’s sample sizes (200 validation, 250 traffic)', () => {
    const random = seededRandom(2);
    let alarms = 0;
    for (let i = 0; i < 100; i++) {
      const test = rankPermutationTest(sample(random, 200, normal()), sample(random, 250, normal()), { permutations: 999, alpha: 0.01, random });
      if (test.pValue < 0.01) alarms += 1;
    }
    // Binomial(100, 0.01): mean 1; 5 or more has probability < 0.4 %.
    expect(alarms).toBeLessThan(5);
  });

  it('finds a minority of far-out values: a quarter of the sample shifted by two standard deviations', () => {
    const random = seededRandom(3);
    let found = 0;
    for (let i = 0; i < 20; i++) {
      const traffic = Float64Array.from([...sample(random, 180, normal()), ...sample(random, 60, normal(2))]);
      const test = rankPermutationTest(sample(random, 200, normal()), traffic, { permutations: 999, alpha: 0.01 / 7, random });
      if (test.pValue < 0.01 / 7) found += 1;
    }
    expect(found).toBeGreaterThanOrEqual(18);
  });

  it('is one-sided: a sample of values smaller than the reference is no drift', () => {
    const random = seededRandom(4);
    const test = rankPermutationTest(sample(random, 100, normal()), sample(random, 100, normal(-2)), { permutations: 500, random });
    expect(test.statistic).toBeLessThan(0);
    expect(test.pValue).toBeGreaterThan(0.9);
  });

  it('reaches the smallest p-value the permutations allow when every sample value is beyond the reference', () => {
    const test = rankPermutationTest([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20], { permutations: 500, random: seededRandom(5) });
    expect(test).toMatchObject({ pValue: 1 / 501, permutations: 500, stoppedEarly: false });
    expect(test.statistic).toBeGreaterThan(0.5);
  });

  it('stops early once significance at alpha is out of reach, with the decision of the full test', () => {
    const a = sample(seededRandom(6), 60, normal());
    const b = sample(seededRandom(7), 60, normal());
    const full = rankPermutationTest(a, b, { permutations: 999, random: seededRandom(8) });
    const early = rankPermutationTest(a, b, { permutations: 999, alpha: 0.01, random: seededRandom(8) });
    expect(full.pValue).toBeGreaterThan(0.01);
    expect(early.stoppedEarly).toBe(true);
    expect(early.permutations).toBeLessThan(200);
    expect(early.pValue).toBeGreaterThan(0.01);
    expect(early.statistic).toBe(full.statistic);
  });

  it('is reproducible with the same seed, and says nothing (NaN) about an empty sample', () => {
    const a = sample(seededRandom(9), 20, normal());
    const b = sample(seededRandom(10), 50, normal(0.5));
    expect(rankPermutationTest(a, b, { permutations: 200, random: seededRandom(11) })).toEqual(rankPermutationTest(a, b, { permutations: 200, random: seededRandom(11) }));
    expect(rankPermutationTest(a, [], { random: seededRandom(1) }).pValue).toBeNaN();
  });
});

describe('savageScores', () => {
  it('scores rank r of N as the sum of 1/j for j from N−r+1 to N, averaging ties, with mean 1', () => {
    // N = 3: ranks 1, 2, 3 score 1/3, 1/3 + 1/2, 1/3 + 1/2 + 1.
    expect(Array.from(savageScores([30, 10, 20]))).toEqual([1 / 3 + 1 / 2 + 1, 1 / 3, 1 / 3 + 1 / 2].map((x) => expect.closeTo(x, 12)));
    const tied = Array.from(savageScores([5, 5, 1]));
    expect(tied[0]).toBeCloseTo((1 / 3 + 1 / 2 + 1 / 3 + 1 / 2 + 1) / 2, 12);
    expect(tied[1]).toBe(tied[0]);
    const many = savageScores(Array.from({ length: 101 }, (_, i) => (i * 37) % 101));
    expect(many.reduce((s, x) => s + x, 0) / many.length).toBeCloseTo(1, 12);
  });
});

describe('nearest neighbours, whitening and principal axes', () => {
  it('averages the distances to the k nearest reference rows, optionally not counting a row itself', () => {
    const reference = matrixFromRows([[0, 0], [3, 4], [0, 2]]);
    const points = matrixFromRows([[0, 1], [10, 4]]);
    expect(Array.from(meanNeighbourDistances(points, reference, 1))).toEqual([1, 7]);
    expect(Array.from(meanNeighbourDistances(points, reference, 2))).toEqual([1, (7 + Math.hypot(10, 2)) / 2].map((x) => expect.closeTo(x, 12)));
    // Each reference row's nearest other row: [0,2] for [0,0] and for [3,4] (√13), [0,0] for [0,2].
    expect(Array.from(meanNeighbourDistances(reference, reference, 1, { excludeSelf: true }))).toEqual([2, Math.sqrt(13), 2]);
    expect(() => meanNeighbourDistances(matrixFromRows([[1, 2, 3]]), reference, 1)).toThrow('points have 3 columns, the reference 2');
    expect(() => meanNeighbourDistances(points, reference, 4)).toThrow('k: expected a whole number from 1 to 3');
  });

  it('whitens: the reference rows come out with (about) unit covariance, whatever their scale and correlation', () => {
    const random = seededRandom(12);
    const rows = Array.from({ length: 2000 }, () => {
      const a = normalSample(random);
      const b = normalSample(random);
      return [10 * a, 10 * a + 0.5 * b, 0.01 * normalSample(random)];
    });
    const reference = matrixFromRows(rows);
    const whitened = applyWhitening(reference, fitWhitening(reference, 1e-9));
    const d = 3;
    for (let p = 0; p < d; p++) {
      for (let q = 0; q < d; q++) {
        let s = 0;
        for (let i = 0; i < whitened.rows; i++) s += whitened.data[i * d + p] * whitened.data[i * d + q];
        expect(s / (whitened.rows - 1)).toBeCloseTo(p === q ? 1 : 0, 1);
      }
    }
    // Shrinkage keeps a direction without variance finite.
    const flat = matrixFromRows([[1, 0], [2, 0], [3, 0]]);
    const out = applyWhitening(matrixFromRows([[2, 1]]), fitWhitening(flat, 0.01));
    expect(Number.isFinite(out.data[1])).toBe(true);
    expect(() => fitWhitening(matrixFromRows([[1, 2]]), 0.01)).toThrow('at least 2 rows');
    expect(() => applyWhitening(matrixFromRows([[1, 2, 3]]), fitWhitening(flat, 0.01))).toThrow('rows have 3 columns, the whitening 2');
  });

  it('finds the directions of largest variance first', () => {
    const random = seededRandom(11);
    const rows = Array.from({ length: 400 }, () => [3 * normalSample(random), 0.2 * normalSample(random), normalSample(random)]);
    const { axes, variances } = principalAxes(matrixFromRows(rows), 2, seededRandom(12));
    expect(Math.abs(axes[0][0])).toBeGreaterThan(0.99);
    expect(Math.abs(axes[1][2])).toBeGreaterThan(0.99);
    expect(variances[0]).toBeGreaterThan(7);
    expect(variances[1]).toBeGreaterThan(0.7);
    expect(variances[1]).toBeLessThan(1.3);
  });
});
