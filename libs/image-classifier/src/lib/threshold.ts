import type { ThresholdRecommendation } from '@scones/payload-schemas';
import { TrainingError } from '../errors';
import { Random } from './random';

/** Precision the filter's default threshold aims for on validation data. */
export const DEFAULT_TARGET_PRECISION = 0.98;

/** Bootstrap resamples {@link recommendThreshold} takes the median over (odd: the median is one of them). */
export const THRESHOLD_RESAMPLES = 201;

/**
 * The lowest confidence threshold whose passed predictions (top-1 confidence ≥ threshold) reach
 * `targetPrecision` on these predictions, with the share of images it passes. Candidates are the
 * observed confidences, so the threshold is the confidence of a real image. When no threshold
 * reaches the target, the answer is 1 (pass nothing): the model is not precise enough to
 * auto-accept anything, and `precision`/`coverage` say so (precision is that of the most confident
 * image).
 */
export function precisionThreshold(confidences: readonly number[], correct: readonly boolean[], targetPrecision = DEFAULT_TARGET_PRECISION): ThresholdRecommendation {
  // Most confident first: a prefix of this order is exactly the set a threshold passes.
  const order = confidences.map((c, i) => i).sort((a, b) => confidences[b] - confidences[a]);
  let hits = 0;
  let best: ThresholdRecommendation | undefined;
  for (let k = 0; k < order.length; k++) {
    hits += correct[order[k]] ? 1 : 0;
    const value = confidences[order[k]];
    // Images tied with the next one pass together; only whole tie groups are candidates.
    if (k + 1 < order.length && confidences[order[k + 1]] === value) continue;
    const precision = hits / (k + 1);
    if (precision >= targetPrecision) best = { value, targetPrecision, precision, coverage: (k + 1) / order.length };
  }
  return best ?? passNothing(confidences, correct, targetPrecision);
}

/** The recommendation of 1: precision is that of the most confident image(s), coverage what 1 passes. */
function passNothing(confidences: readonly number[], correct: readonly boolean[], targetPrecision: number): ThresholdRecommendation {
  if (confidences.length === 0) return { value: 1, targetPrecision, precision: 0, coverage: 0 };
  const top = confidences.reduce((a, b) => Math.max(a, b), -Infinity);
  const topGroup = confidences.flatMap((c, i) => (c === top ? [i] : []));
  return { value: 1, targetPrecision, precision: topGroup.filter((i) => correct[i]).length / topGroup.length, coverage: top >= 1 ? topGroup.length / confidences.length : 0 };
}

/** Precision and coverage of `threshold` on these predictions (precision 0 when nothing passes). */
function measure(confidences: readonly number[], correct: readonly boolean[], threshold: number): { precision: number; coverage: number } {
  let passed = 0;
  let hits = 0;
  confidences.forEach((c, i) => {
    if (c >= threshold) {
      passed++;
      if (correct[i]) hits++;
    }
  });
  return { precision: passed ? hits / passed : 0, coverage: confidences.length ? passed / confidences.length : 0 };
}

export interface RecommendThresholdOptions {
  /** Bootstrap resamples (default {@link THRESHOLD_RESAMPLES}); 0: the plain {@link precisionThreshold}. */
  resamples?: number;
  /** Seed of the resampling: the recommendation is a function of the predictions alone. Default 0. */
  seed?: number;
}

/**
 * The filter's threshold for `targetPrecision`, chosen on validation predictions: the median, over
 * bootstrap resamples of those predictions, of {@link precisionThreshold}. The plain rule hinges on
 * the few most confident mistakes of a 200-image validation set: one of them near the top drops it
 * from passing most images to passing almost none (seen: 9 % of images passed where other seeds of
 * the same recipe passed 70 %). The median over resamples is the threshold the rule picks on a
 * typical draw of such a set, so one unlucky mistake moves it much less. Measured on predictions
 * of held-out training images, never the test set (BENCHMARKS.md, issue 18). `precision` and
 * `coverage` are those of the chosen value on the whole validation set.
 */
export function recommendThreshold(confidences: readonly number[], correct: readonly boolean[], targetPrecision = DEFAULT_TARGET_PRECISION, options: RecommendThresholdOptions = {}): ThresholdRecommendation {
  const resamples = options.resamples ?? THRESHOLD_RESAMPLES;
  if (!Number.isInteger(resamples) || resamples < 0) throw new TrainingError(`recommendThreshold: resamples must be a non-negative integer, got ${resamples}`);
  if (confidences.length !== correct.length) throw new TrainingError(`recommendThreshold: confidences (${confidences.length}) and correct (${correct.length}) must have the same length`);
  const n = confidences.length;
  if (resamples === 0 || n === 0) return { ...precisionThreshold(confidences, correct, targetPrecision), method: 'lowest threshold reaching the target precision' };
  const random = new Random(options.seed ?? 0);
  const values: number[] = [];
  const sampleConfidences = new Array<number>(n);
  const sampleCorrect = new Array<boolean>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) {
      const j = random.int(n);
      sampleConfidences[i] = confidences[j];
      sampleCorrect[i] = correct[j];
    }
    values.push(precisionThreshold(sampleConfidences, sampleCorrect, targetPrecision).value);
  }
  values.sort((a, b) => a - b);
  // The lower median for an even count: every candidate is an observed confidence (or 1).
  const value = values[Math.floor((values.length - 1) / 2)];
  const method = `median over ${resamples} bootstrap resamples of the lowest threshold reaching the target precision`;
  if (value >= 1) return { ...passNothing(confidences, correct, targetPrecision), method };
  return { value, targetPrecision, ...measure(confidences, correct, value), method };
}
