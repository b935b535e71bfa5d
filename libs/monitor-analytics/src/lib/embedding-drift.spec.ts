import { baselineFromManifest } from './baseline';
import { analyzeEmbeddings, embeddingRules, normalizeEmbedding, type EmbeddingReference } from './embedding-drift';
import { matrixFromRows } from './embedding-statistics';
import { seededRandom } from './random';
import { cifarLikeProfile, normalSample, syntheticBaseline, syntheticEmbeddingBaseline, syntheticManifest } from './synthetic-traffic';

// Embeddings with the structure that made the unwhitened test blind: a few directions in which
// every image varies a lot (lighting, the class), many in which familiar images vary little. A
// foreign image differs in those quiet directions.
const D = 24;
const LOUD = 3;
function familiar(random: () => number): number[] {
  return Array.from({ length: D }, (_, k) => (k < LOUD ? 3 : 0.3) * normalSample(random));
}
function foreign(random: () => number): number[] {
  // One quiet direction, at random, moved by 3 of its own standard deviations: a third of one loud one.
  const moved = LOUD + Math.floor(random() * (D - LOUD));
  return familiar(random).map((v, k) => (k === moved ? v + 0.9 : v));
}
function reference(random: () => number): EmbeddingReference {
  const rows = (n: number) => Array.from({ length: n }, () => familiar(random));
  return { normalization: 'none', validation: matrixFromRows(rows(200)), training: matrixFromRows(rows(800)) };
}
/** A window of `size` requests, `foreignShare` of them foreign, drawn with replacement from pools as the real bench does. */
function window(random: () => number, pools: { familiar: number[][]; foreign: number[][] }, size: number, foreignShare: number) {
  const foreignCount = Math.round(size * foreignShare);
  return Array.from({ length: size }, (_, i) => {
    const isForeign = i < foreignCount;
    const pool = isForeign ? pools.foreign : pools.familiar;
    const index = Math.floor(random() * pool.length);
    return { time: i * 1000, contentKey: `${isForeign ? 'f' : 't'}${index}`, embedding: pool[index] };
  });
}

describe('analyzeEmbeddings', () => {
  const alpha = 0.01 / 7;
  const options = { permutations: 999, alpha };

  it('keeps its false-alarm rate on traffic like the baseline, and flags windows with a quarter of foreign inputs', () => {
    const random = seededRandom(41);
    const ref = reference(random);
    const pools = { familiar: Array.from({ length: 200 }, () => familiar(random)), foreign: Array.from({ length: 400 }, () => foreign(random)) };
    let falseAlarms = 0;
    let detections = 0;
    const windows = 20;
    for (let w = 0; w < windows; w++) {
      const clean = analyzeEmbeddings(ref, window(random, pools, 400, 0), 400, { ...options, seed: w });
      if (clean.test!.pValue < alpha) falseAlarms += 1;
      const mixed = analyzeEmbeddings(ref, window(random, pools, 400, 0.25), 400, { ...options, seed: 100 + w });
      if (mixed.test!.pValue < alpha) detections += 1;
    }
    // Each clean window alarms with probability ≤ α′ (exchangeable with the validation rows): 2 of 20 would be < 0.02 %.
    expect(falseAlarms).toBeLessThanOrEqual(1);
    expect(detections).toBeGreaterThanOrEqual(19);
  });

  it('scores atypicality in the whitened space: a shift in a quiet direction stands out, a loud-direction wobble of the same size does not', () => {
    const random = seededRandom(42);
    const ref = reference(random);
    const rules = embeddingRules(ref);
    const base = familiar(random);
    // 3 is ten standard deviations of a quiet direction and one of a loud one.
    const quiet = base.map((v, k) => (k === LOUD ? v + 3 : v));
    const loud = base.map((v, k) => (k === 0 ? v + 3 : v));
    const { inputs } = analyzeEmbeddings(ref, [base, quiet, loud].map((embedding, i) => ({ time: i, contentKey: String(i), embedding })), 3, options);
    expect(inputs[1].distance).toBeGreaterThan(inputs[0].distance + 3);
    expect(Math.abs(inputs[2].distance - inputs[0].distance)).toBeLessThan(1);
    expect(inputs[1].distance).toBeGreaterThan(rules.oodThreshold);
    expect(inputs[1].outOfDistribution).toBe(inputs[1].distance > rules.oodThreshold);
  });

  it('chooses the out-of-distribution threshold on validation data: about 5 % of familiar inputs exceed it', () => {
    const random = seededRandom(43);
    const ref = reference(random);
    const sample = Array.from({ length: 2000 }, (_, i) => ({ time: i, contentKey: String(i), embedding: familiar(random) }));
    const result = analyzeEmbeddings(ref, sample, 2000, options);
    expect(result.outOfDistribution.expectedShare).toBeCloseTo(0.05, 10);
    // 200 validation rows place the 95 % quantile within a few points.
    expect(result.outOfDistribution.share!).toBeGreaterThan(0.02);
    expect(result.outOfDistribution.share!).toBeLessThan(0.1);
    expect(result.baselineDistances).toHaveLength(200);
    expect(result.neighbours).toBe(5);
  });

  it('compares each image once and refuses embeddings of another length, naming the sizes', () => {
    const random = seededRandom(44);
    const ref = reference(random);
    const one = familiar(random);
    const result = analyzeEmbeddings(ref, [0, 1, 2].map((i) => ({ time: i, contentKey: 'same', embedding: one })), 3, options);
    expect(result.inputs.map((x) => x.distinct)).toEqual([true, false, false]);
    expect(result.distinct).toBe(1);
    expect(result.test).toBeNull();
    expect(() => analyzeEmbeddings(ref, [{ time: 0, contentKey: 'x', embedding: [1, 2] }], 1, options)).toThrow(`embedding 0 has 2 values, the baseline's have ${D}`);
  });

  it('treats traffic as the baseline was stored: l2 normalisation', () => {
    expect(Array.from(normalizeEmbedding([3, 4], 'l2'))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(Array.from(normalizeEmbedding([0, 0], 'l2'))).toEqual([0, 0]);
    expect(Array.from(normalizeEmbedding([3, 4], 'none'))).toEqual([3, 4]);
  });
});

describe('baseline embeddings of earlier versions', () => {
  it('count as absent: penultimate-layer vectors are not what embed computes now', () => {
    const random = seededRandom(45);
    const profile = cifarLikeProfile();
    const embedding = syntheticEmbeddingBaseline(random, profile, { validation: 50, training: 60 });
    const manifest = (layer: 'penultimate' | 'stages') => syntheticManifest({ baseline: { ...syntheticBaseline(random, 50, profile), embedding: { ...embedding, layer } } });
    expect(baselineFromManifest(manifest('stages'), 'new.json').embedding?.training.rows).toBe(60);
    expect(baselineFromManifest(manifest('penultimate'), 'old.json').embedding).toBeUndefined();
  });
});
