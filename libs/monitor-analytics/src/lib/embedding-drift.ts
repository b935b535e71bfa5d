import { applyWhitening, fitWhitening, matrixFromRows, meanNeighbourDistances, principalAxes, rankPermutationTest, type Matrix, type RankTestResult } from './embedding-statistics';
import { seededRandom } from './random';
import { quantileSorted, sortedCopy } from './statistics';

/** The model's view of the baseline inputs: stage features of validation and training images. */
export interface EmbeddingReference {
  /** How the stored vectors were normalised; traffic vectors get the same treatment. */
  normalization: 'none' | 'l2';
  /** Held-out validation images: the reference sample of the drift test. */
  validation: Matrix;
  /** Training images: what "typical" means; an input's distance to the nearest of these says how foreign it is. */
  training: Matrix;
}

/** Computes the model's features of images (`Classifier.embed` of @scones/image-classifier). */
export interface ImageEmbedder {
  embed(images: import('@scones/image-classifier/decode').RgbImage[]): Promise<Float32Array[]>;
}

/**
 * Nearest training images an input's atypicality averages over: one neighbour is noisy (a single
 * look-alike hides a foreign image); a handful keeps the score local.
 */
export const NEIGHBOURS = 5;

/**
 * Shrinkage of the training covariance towards λ·(its mean variance)·I before whitening: enough
 * to keep every direction finite (a few hundred dimensions, some dead channels, ~800 training
 * rows), small enough to leave the metric Mahalanobis in every direction that varies.
 */
export const WHITENING_SHRINKAGE = 0.01;

/** The monitoring rules derived from the reference: the metric from training data, the thresholds on validation data. */
export interface EmbeddingRules {
  /** Nearest training images each atypicality averages over ({@link NEIGHBOURS}). */
  neighbours: number;
  /** Whitening fitted on the training embeddings: distances after it are Mahalanobis distances. */
  whitening: ReturnType<typeof fitWhitening>;
  /** The training embeddings, whitened. */
  whitenedTraining: Matrix;
  /** Atypicality above which an input is out of distribution. */
  oodThreshold: number;
  /** The quantile of the validation images' atypicalities that `oodThreshold` is. */
  oodQuantile: number;
  /** Each validation image's atypicality (the reference sample of the drift test and of `embedding_distance`). */
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
 * traffic adds little power.
 */
export const MAX_TEST_ROWS = 1000;

const rulesCache = new WeakMap<EmbeddingReference, Map<number, EmbeddingRules>>();

/**
 * An input's atypicality: the mean whitened (Mahalanobis) distance to its {@link NEIGHBOURS}
 * nearest training images. Training images only define the metric and the neighbourhood; held-out
 * validation images and traffic are scored alike, so the two are comparable.
 */
function atypicality(rules: Pick<EmbeddingRules, 'whitening' | 'whitenedTraining' | 'neighbours'>, vectors: Matrix): Float64Array {
  return meanNeighbourDistances(applyWhitening(vectors, rules.whitening), rules.whitenedTraining, Math.min(rules.neighbours, rules.whitenedTraining.rows));
}

/** Metric (from the training embeddings), out-of-distribution threshold and picture plane (from the validation embeddings), cached. */
export function embeddingRules(reference: EmbeddingReference, oodQuantile = DEFAULT_OOD_QUANTILE): EmbeddingRules {
  const cached = rulesCache.get(reference)?.get(oodQuantile);
  if (cached) return cached;
  const byQuantile = rulesCache.get(reference) ?? new Map<number, EmbeddingRules>();
  // The metric and the validation scores do not depend on the quantile: share them.
  const shared = byQuantile.values().next().value as EmbeddingRules | undefined;
  let base: Pick<EmbeddingRules, 'whitening' | 'whitenedTraining' | 'neighbours' | 'validationDistances' | 'projection'>;
  if (shared) base = shared;
  else {
    const whitening = fitWhitening(reference.training, WHITENING_SHRINKAGE);
    const metric = { whitening, whitenedTraining: applyWhitening(reference.training, whitening), neighbours: NEIGHBOURS };
    base = { ...metric, validationDistances: atypicality(metric, reference.validation), projection: principalAxes(reference.validation, 2, seededRandom(2)) };
  }
  const rules: EmbeddingRules = { ...base, oodThreshold: quantileSorted(sortedCopy(base.validationDistances), oodQuantile), oodQuantile };
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
  /** Atypicality: mean whitened distance to the nearest training embeddings. */
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
  /** Each validation image's atypicality. */
  baselineDistances: number[];
  /** Nearest training images each atypicality averages over. */
  neighbours: number;
  test: RankTestResult | null;
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
 * of its bytes), scores each input's atypicality (mean whitened distance to the nearest training
 * images), flags those beyond the validation-chosen threshold, places them in the picture plane,
 * and tests whether the distinct sampled images are more atypical than the validation images
 * (log-rank permutation test): a minority of foreign inputs moves the far tail, which that test weighs.
 */
export function analyzeEmbeddings(
  reference: EmbeddingReference,
  sample: Array<{ time: number; contentKey: string; embedding: ArrayLike<number> }>,
  sampleLimit: number,
  options: EmbeddingAnalysisOptions,
): EmbeddingObservations {
  const columns = reference.validation.columns;
  for (const [i, s] of sample.entries()) {
    if (s.embedding.length !== columns) throw new RangeError(`embedding ${i} has ${s.embedding.length} values, the baseline's have ${columns} (was the baseline computed by another model?)`);
  }
  const rules = embeddingRules(reference, options.oodQuantile);
  const vectors = matrixFromRows(
    sample.map((s) => normalizeEmbedding(s.embedding, reference.normalization)),
    columns,
  );
  const distances = sample.length ? atypicality(rules, vectors) : new Float64Array(0);
  const points = project(vectors, rules.projection);
  const seen = new Set<string>();
  const inputs: EmbeddedInput[] = sample.map((s, i) => {
    const distinct = !seen.has(s.contentKey);
    seen.add(s.contentKey);
    return { time: s.time, distance: distances[i], outOfDistribution: distances[i] > rules.oodThreshold, x: points[i][0], y: points[i][1], distinct };
  });
  const tested = inputs.filter((input) => input.distinct).slice(0, MAX_TEST_ROWS);
  const test =
    tested.length >= 2
      ? rankPermutationTest(
          rules.validationDistances,
          tested.map((input) => input.distance),
          { permutations: options.permutations, alpha: options.alpha, random: seededRandom(options.seed ?? 19) },
        )
      : null;
  const ood = inputs.filter((x) => x.outOfDistribution).length;
  return {
    sampled: inputs.length,
    sampleLimit,
    distinct: tested.length,
    inputs,
    outOfDistribution: { count: ood, share: inputs.length ? ood / inputs.length : null, threshold: rules.oodThreshold, quantile: rules.oodQuantile, expectedShare: 1 - rules.oodQuantile },
    baselinePoints: project(reference.validation, rules.projection),
    baselineDistances: [...rules.validationDistances],
    neighbours: rules.neighbours,
    test,
  };
}
