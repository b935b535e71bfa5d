import { matrixFromRows, medianPairwiseDistance, mmdPermutationTest, nearestNeighbourDistances, principalAxes } from './embedding-statistics';
import { seededRandom } from './random';
import { normalSample } from './synthetic-traffic';

/** n points of an isotropic Gaussian in `d` dimensions, shifted by `shift` along the first axis. */
function gaussian(random: () => number, n: number, d: number, shift = 0) {
  return matrixFromRows(Array.from({ length: n }, () => Array.from({ length: d }, (_, k) => normalSample(random) + (k === 0 ? shift : 0))));
}

describe('mmdPermutationTest', () => {
  it('has the false-alarm rate it promises when both samples come from one distribution', () => {
    const random = seededRandom(1);
    let alarms = 0;
    const runs = 200;
    for (let i = 0; i < runs; i++) {
      const a = gaussian(random, 30, 4);
      const b = gaussian(random, 40, 4);
      const test = mmdPermutationTest(a, b, { bandwidth: medianPairwiseDistance(a), permutations: 99, random });
      if (test.pValue <= 0.05) alarms += 1;
    }
    // Binomial(200, 0.05): mean 10, and 20 or more has probability < 0.3 %.
    expect(alarms).toBeLessThan(20);
    expect(alarms).toBeGreaterThan(0);
  });

  it('finds a shift of one standard deviation, with the smallest p-value the permutations allow', () => {
    const random = seededRandom(2);
    const a = gaussian(random, 100, 8);
    const b = gaussian(random, 100, 8, 1);
    const test = mmdPermutationTest(a, b, { bandwidth: medianPairwiseDistance(a), permutations: 500, random });
    expect(test.statistic).toBeGreaterThan(0);
    expect(test.pValue).toBe(1 / 501);
    expect(test).toMatchObject({ permutations: 500, stoppedEarly: false });
  });

  it('stops early once significance at alpha is out of reach, with the decision of the full test', () => {
    const a = gaussian(seededRandom(3), 60, 4);
    const b = gaussian(seededRandom(4), 60, 4);
    const bandwidth = medianPairwiseDistance(a);
    const full = mmdPermutationTest(a, b, { bandwidth, permutations: 999, random: seededRandom(5) });
    const early = mmdPermutationTest(a, b, { bandwidth, permutations: 999, alpha: 0.01, random: seededRandom(5) });
    expect(full.pValue).toBeGreaterThan(0.01);
    expect(early.stoppedEarly).toBe(true);
    expect(early.permutations).toBeLessThan(200);
    expect(early.pValue).toBeGreaterThan(0.01);
    expect(early.statistic).toBe(full.statistic);
  });

  it('is symmetric in its samples and reproducible with the same seed', () => {
    const a = gaussian(seededRandom(6), 20, 3);
    const b = gaussian(seededRandom(7), 50, 3, 0.5);
    const options = { bandwidth: 1.5, permutations: 200 };
    const ab = mmdPermutationTest(a, b, { ...options, random: seededRandom(8) });
    const ba = mmdPermutationTest(b, a, { ...options, random: seededRandom(8) });
    expect(ab.statistic).toBeCloseTo(ba.statistic, 12);
    expect(mmdPermutationTest(a, b, { ...options, random: seededRandom(8) })).toEqual(ab);
  });

  it('says nothing (NaN) about samples of fewer than two rows', () => {
    const a = gaussian(seededRandom(9), 1, 3);
    expect(mmdPermutationTest(a, gaussian(seededRandom(10), 5, 3), { bandwidth: 1, random: seededRandom(1) }).pValue).toBeNaN();
  });
});

describe('nearest neighbours, bandwidth and principal axes', () => {
  it('measures the distance to the nearest reference row', () => {
    const reference = matrixFromRows([
      [0, 0],
      [3, 4],
    ]);
    const points = matrixFromRows([
      [0, 1],
      [3, 3],
      [10, 4],
    ]);
    expect(Array.from(nearestNeighbourDistances(points, reference))).toEqual([1, 1, 7]);
    expect(() => nearestNeighbourDistances(matrixFromRows([[1, 2, 3]]), reference)).toThrow('points have 3 columns, the reference 2');
  });

  it('takes the median pairwise distance as the kernel bandwidth', () => {
    // Pairwise distances 1, 2, 3 (points on a line at 0, 1, 3... minus one): median 2.
    expect(medianPairwiseDistance(matrixFromRows([[0], [1], [3]]))).toBe(2);
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
