import type { ThresholdRecommendation } from '@scones/payload-schemas';

/** Precision the filter's default threshold aims for on validation data. */
export const DEFAULT_TARGET_PRECISION = 0.98;

/**
 * The lowest confidence threshold whose passed predictions (top-1 confidence ≥ threshold) reach
 * `targetPrecision`, with the share of images it passes. Candidates are the observed confidences,
 * so the threshold is the confidence of a real validation image. When no threshold reaches the
 * target, the recommendation is 1 (pass nothing): the model is not precise enough to auto-accept
 * anything, and `precision`/`coverage` say so (precision is that of the most confident image).
 */
export function recommendThreshold(confidences: readonly number[], correct: readonly boolean[], targetPrecision = DEFAULT_TARGET_PRECISION): ThresholdRecommendation {
  if (confidences.length === 0) return { value: 1, targetPrecision, precision: 0, coverage: 0 };
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
  if (best) return best;
  const top = confidences[order[0]];
  const topGroup = order.filter((i) => confidences[i] === top);
  return { value: 1, targetPrecision, precision: topGroup.filter((i) => correct[i]).length / topGroup.length, coverage: top >= 1 ? topGroup.length / order.length : 0 };
}
