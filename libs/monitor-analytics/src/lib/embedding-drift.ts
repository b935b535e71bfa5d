import { matrixFromRows, medianPairwiseDistance, mmdPermutationTest, nearestNeighbourDistances, principalAxes, selectRows, type Matrix, type MmdTestResult } from './embedding-statistics';
import { seededRandom } from './random';
import { quantileSorted, sortedCopy } from './statistics';

/** The model's view of the baseline inputs: penultimate-layer features of validation and training images. */
export interface EmbeddingReference {
  /** How the stored vectors were normalised; traffic vectors get the same treatment. */
  normalization: 'none' | 'l2';
  /** Held-out validation images: the reference sample of the drift test. */
  validation: Matrix;
  /** Training images: distances to the nearest of these say how foreign an input is. */
  training: Matrix;
}

/** Computes penultimate-layer features of images (`Classifier.embed` of @scones/image-classifier). */
export interface ImageEmbedder {
  embed(images: import('@scones/image-classifier/decode').RgbImage[]): Promise<Float32Array[]>;
}

/** The monitoring rules derived from the reference, all on validation data. */
export interface EmbeddingRules {
  /** Gaussian kernel bandwidth: the median distance between validation embeddings. */
  bandwidth: number;
  /** Distance to the nearest training embedding above which an input is out of distribution. */
  oodThreshold: number;
  /** The quantile of the validation images' nearest-training distances that `oodThreshold` is. */
  oodQuantile: number;
  /** Each validation image's distance to its nearest training image (the baseline of `embedding_distance`). */
  validationDistances: Float64Array;
  /** The plane of the picture: the validation embeddings' mean and first two principal axes. */
  projection: { mean: Float64Array; axes: Float64Array[] };
}

/**
 * Share of in-distribution inputs that are still within the threshold: 0.95, so 5 % of healthy
 * traffic is flagged by construction, which the report draws as the expected level.
 */
export const DEFAULT_OOD_QUANTILE = 0.95;

/**
 * The drift test compares at most this many distinct sampled inputs with the validation images
 * (the first of the sample, itself uniform): the baseline side has a few hundred images, so more
 * traffic adds little power, while the kernel matrix grows with the square of the rows.
 */
export const MAX_TEST_ROWS = 1000;

const rulesCache = new WeakMap<EmbeddingReference, Map<number, EmbeddingRules>>();

/** Kernel bandwidth, out-of-distribution threshold and picture plane, from the validation embeddings (cached). */
export function embeddingRules(reference: EmbeddingReference, oodQuantile = DEFAULT_OOD_QUANTILE): EmbeddingRules {
  const cached = rulesCache.get(reference)?.get(oodQuantile);
  if (cached) return cached;
  const validationDistances = nearestNeighbourDistances(reference.validation, reference.training);
  const rules: EmbeddingRules = {
    bandwidth: medianPairwiseDistance(reference.validation) || 1,
    oodThreshold: quantileSorted(sortedCopy(validationDistances), oodQuantile),
    oodQuantile,
    validationDistances,
    projection: principalAxes(reference.validation, 2, seededRandom(2)),
  };
  const byQuantile = rulesCache.get(reference) ?? new Map<number, EmbeddingRules>();
  byQuantile.set(oodQuantile, rules);
  rulesCache.set(reference, byQuantile);
  return rules;
}

/** `v` scaled to unit length, as the baseline's vectors were when `normalization` is `l2`. */
export function normalizeEmbedding(v: ArrayLike<number>, normalization: EmbeddingReference['normalization']): Float32Array {
  if (normalization === 'none') return Float32Array.from(v);
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  return Float32Array.from(v, (x) => x * scale);
}

/** Coordinates of each row in the picture plane. */
export function project(matrix: Matrix, projection: EmbeddingRules['projection']): Array<[number, number]> {
  const { mean, axes } = projection;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < matrix.rows; i++) {
    const point: number[] = [];
    for (const axis of axes) {
      let s = 0;
      for (let k = 0; k < matrix.columns; k++) s += (matrix.data[i * matrix.columns + k] - mean[k]) * axis[k];
      point.push(s);
    }
    out.push([point[0] ?? 0, point[1] ?? 0]);
  }
  return out;
}

/** One embedded input of the traffic sample. */
export interface EmbeddedInput {
  /** inferenceTime (epoch ms). */
  time: number;
  /** Distance to the nearest training embedding. */
  distance: number;
  outOfDistribution: boolean;
  /** Position in the picture plane. */
  x: number;
  y: number;
  /** False for a repeat of an image already in the sample (kept out of the drift test). */
  distinct: boolean;
}

/** What the traffic sample's embeddings showed. */
export interface EmbeddingObservations {
  /** Inputs embedded (a uniform sample of the decodable ones, at most `sampleLimit`). */
  sampled: number;
  sampleLimit: number;
  /** Distinct images among them that the drift test compared (at most {@link MAX_TEST_ROWS}). */
  distinct: number;
  inputs: EmbeddedInput[];
  outOfDistribution: { count: number; share: number | null; threshold: number; quantile: number; expectedShare: number };
  /** The baseline's validation images in the picture plane. */
  baselinePoints: Array<[number, number]>;
  /** Each validation image's distance to its nearest training image. */
  baselineDistances: number[];
  bandwidth: number;
  test: MmdTestResult | null;
}

export interface EmbeddingAnalysisOptions {
  /** Label permutations of the drift test. */
  permutations: number;
  /** The per-check significance level (the test may stop early once it cannot reach it). */
  alpha: number;
  oodQuantile?: number;
  /** Seeds the permutations, so a report is reproducible. */
  seed?: number;
}

/**
 * Embeds nothing itself: given the traffic sample's embeddings (with each input's time and a key
 * of its bytes), measures each input's distance to the nearest training image, flags those beyond
 * the validation-chosen threshold, places them in the picture plane, and runs the MMD permutation
 * test between the distinct sampled images and the validation images.
 */
export function analyzeEmbeddings(
  reference: EmbeddingReference,
  sample: Array<{ time: number; contentKey: string; embedding: ArrayLike<number> }>,
  sampleLimit: number,
  options: EmbeddingAnalysisOptions,
): EmbeddingObservations {
  const rules = embeddingRules(reference, options.oodQuantile);
  const columns = reference.validation.columns;
  for (const [i, s] of sample.entries()) {
    if (s.embedding.length !== columns) throw new RangeError(`embedding ${i} has ${s.embedding.length} values, the baseline's have ${columns} (was the baseline computed by another model?)`);
  }
  const vectors = matrixFromRows(
    sample.map((s) => normalizeEmbedding(s.embedding, reference.normalization)),
    columns,
  );
  const distances = nearestNeighbourDistances(vectors, reference.training);
  const points = project(vectors, rules.projection);
  const seen = new Set<string>();
  const inputs: EmbeddedInput[] = sample.map((s, i) => {
    const distinct = !seen.has(s.contentKey);
    seen.add(s.contentKey);
    return { time: s.time, distance: distances[i], outOfDistribution: distances[i] > rules.oodThreshold, x: points[i][0], y: points[i][1], distinct };
  });
  const distinctRows = inputs.flatMap((input, i) => (input.distinct ? [i] : [])).slice(0, MAX_TEST_ROWS);
  const test =
    distinctRows.length >= 2
      ? mmdPermutationTest(reference.validation, selectRows(vectors, distinctRows), {
          bandwidth: rules.bandwidth,
          permutations: options.permutations,
          alpha: options.alpha,
          random: seededRandom(options.seed ?? 19),
        })
      : null;
  const ood = inputs.filter((x) => x.outOfDistribution).length;
  return {
    sampled: inputs.length,
    sampleLimit,
    distinct: distinctRows.length,
    inputs,
    outOfDistribution: { count: ood, share: inputs.length ? ood / inputs.length : null, threshold: rules.oodThreshold, quantile: rules.oodQuantile, expectedShare: 1 - rules.oodQuantile },
    baselinePoints: project(reference.validation, rules.projection),
    baselineDistances: [...rules.validationDistances],
    bandwidth: rules.bandwidth,
    test,
  };
}
