import type { MonitoringBaseline } from './baseline';
import type { EmbeddingObservations } from './embedding-drift';
import type { ConstraintCheckType } from './model-monitor/schema';
import { chiSquareCriticalValue, chiSquareHomogeneity, describeDistribution, kolmogorovSmirnov, populationStabilityIndex } from './statistics';

/**
 * When a difference from the baseline counts as a violation. A violation must be both
 * *significant* (unlikely to be sampling noise: p below the family-wise level split over all
 * checks, Bonferroni) and *material* (an effect size a person would care about, by the usual
 * conventions). Significance alone flags trivial differences once traffic is large; effect size
 * alone flags noise when samples are small. None of these values was tuned on test data.
 */
export interface DriftPolicy {
  /** Family-wise false-alarm probability of a report when nothing changed. */
  significanceLevel: number;
  /** Checks with fewer observations (traffic or baseline) are reported as insufficient data. */
  minimumSampleSize: number;
  /** PSI above which a shift is material (industry convention: < 0.1 stable, 0.1–0.2 moderate, > 0.2 major). */
  psiThreshold: number;
  /** PSI bins, cut at baseline quantiles (deciles). */
  psiBins: number;
  /** Kolmogorov-Smirnov D from which a distribution shift is material (10 points of the CDF). */
  ksMinimumStatistic: number;
  /** Largest change of any class's share of predictions from which the class mix shift is material. */
  classShareMinimumShift: number;
  /** Label permutations of the embedding drift test (its smallest possible p-value is 1 / (1 + this)). */
  embeddingPermutations: number;
}

export const DEFAULT_DRIFT_POLICY: DriftPolicy = {
  significanceLevel: 0.01,
  minimumSampleSize: 30,
  psiThreshold: 0.2,
  psiBins: 10,
  ksMinimumStatistic: 0.1,
  classShareMinimumShift: 0.1,
  embeddingPermutations: 2000,
};

export type DriftTest = 'population-stability-index' | 'kolmogorov-smirnov' | 'chi-square' | 'log-rank' | 'completeness' | 'domain';
/** `not-available`: the baseline has no embeddings (a model trained before they were recorded) or no embedder was given. */
export type DriftStatus = 'ok' | 'violation' | 'insufficient-data' | 'not-available';

/** Result of one check: a line of Model Monitor's constraint_violations.json when violated, with the figures behind it. */
export interface DriftCheck {
  /** Stable identifier, e.g. `confidence_ks`. */
  metric: string;
  /** The Model Monitor feature it is about (`feature_name`): `confidence`, `predicted_class`, `brightness_red`, `embedding`, ... */
  feature: string;
  /** Model Monitor's `constraint_check_type` of a violation of this check. */
  checkType: ConstraintCheckType;
  test: DriftTest;
  status: DriftStatus;
  /** The effect size compared with `threshold`: `psi`, `ks_d` or `max_class_share_shift`. */
  statisticName: string;
  observed: number | null;
  threshold: number;
  pValue: number | null;
  pValueThreshold: number;
  baselineCount: number;
  observedCount: number;
  /** Test-specific figures (chi-square statistic, degrees of freedom, PSI bins, ...). */
  details: Record<string, number | string | boolean>;
  description: string;
}

export interface DriftConstraint {
  metric: string;
  feature: string;
  test: DriftTest;
  statisticName: string;
  /** Material effect size; for PSI the effective threshold also rises with sampling noise (see `rule`). */
  threshold: number;
  pValueThreshold: number;
  minimumSampleSize: number;
  rule: string;
  /** The baseline side of the comparison, summarised. */
  baseline: Record<string, unknown>;
}

/** The significance rule of a report: family-wise level, split over a fixed number of checks. */
export interface SignificanceRule {
  level: number;
  correction: 'bonferroni';
  checks: number;
  perCheckSignificance: number;
}

export interface DriftReport {
  checks: DriftCheck[];
  /** Every rule a report applies, with the baseline side of each comparison summarised (summary.json). */
  rules: DriftConstraint[];
  policy: DriftPolicy;
  significance: SignificanceRule;
}

/** What the traffic side of the comparison needs. */
export interface DriftObservations {
  confidences: ArrayLike<number>;
  classCounts: readonly number[];
  brightness: { r: ArrayLike<number>; g: ArrayLike<number>; b: ArrayLike<number> };
  /** Inputs decoded for image statistics, and how many of them were not decodable images. */
  images?: { sampled: number; undecodable: number; sizes: Record<string, number> };
  /** The embedding sample's analysis (null: not available, with the reason). */
  embedding?: EmbeddingObservations | { unavailable: string };
}

const CHANNELS = [
  ['r', 'red'],
  ['g', 'green'],
  ['b', 'blue'],
] as const;

/**
 * Number of significance tests a report runs: confidence PSI and KS, class mix, three brightness
 * channels, embeddings. Fixed (also when a check cannot run), so the per-check level does not
 * depend on the data.
 */
const CHECK_COUNT = 3 + CHANNELS.length + 1;

/** The per-check significance level of a policy (Bonferroni over the report's tests). */
export function perCheckSignificance(policy: DriftPolicy = DEFAULT_DRIFT_POLICY): number {
  return policy.significanceLevel / CHECK_COUNT;
}

const fmtShare = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
const fmt = (x: number) => (Math.abs(x) >= 0.001 || x === 0 ? x.toFixed(3) : x.toExponential(1));

/**
 * Compares traffic with the model's baseline, in the spirit of SageMaker Model Monitor's
 * baseline_drift_check: PSI and a two-sample KS test on the top-1 confidence, a chi-square test
 * on the predicted-class mix, and KS tests on each channel's per-image mean brightness.
 */
export function checkDrift(baseline: MonitoringBaseline, observed: DriftObservations, policy: DriftPolicy = DEFAULT_DRIFT_POLICY): DriftReport {
  const alpha = policy.significanceLevel / CHECK_COUNT;
  const min = policy.minimumSampleSize;
  const checks: DriftCheck[] = [];
  const constraints: DriftConstraint[] = [];
  const enough = (n: number, m: number) => n >= min && m >= min;
  const insufficient = (n: number, m: number) =>
    `not evaluated: ${m} observation(s) vs ${n} in the baseline, at least ${min} of each are needed`;

  // Confidence: PSI.
  {
    const n = baseline.confidences.length;
    const m = observed.confidences.length;
    const rule = `violation when PSI > max(${policy.psiThreshold}, chi2_{1-${fmt(alpha)}}(bins-1) * (1/n + 1/m)): material, and beyond what sampling noise gives`;
    constraints.push({
      metric: 'confidence_psi',
      feature: 'confidence',
      test: 'population-stability-index',
      statisticName: 'psi',
      threshold: policy.psiThreshold,
      pValueThreshold: alpha,
      minimumSampleSize: min,
      rule,
      baseline: { count: n, bins: policy.psiBins, distribution: describeDistribution(baseline.confidences) },
    });
    if (!enough(n, m)) {
      checks.push(notEvaluated('confidence_psi', 'confidence', 'population-stability-index', 'psi', policy.psiThreshold, alpha, n, m, insufficient(n, m)));
    } else {
      const psi = populationStabilityIndex(baseline.confidences, observed.confidences, policy.psiBins);
      const noiseFloor = psi.bins > 1 ? chiSquareCriticalValue(alpha, psi.bins - 1) / psi.scale : 0;
      const threshold = Math.max(policy.psiThreshold, noiseFloor);
      const violated = psi.bins > 1 && psi.statistic > threshold;
      checks.push({
        metric: 'confidence_psi',
        feature: 'confidence',
        checkType: 'baseline_drift_check',
        test: 'population-stability-index',
        status: violated ? 'violation' : 'ok',
        statisticName: 'psi',
        observed: psi.statistic,
        threshold,
        pValue: psi.pValue,
        pValueThreshold: alpha,
        baselineCount: n,
        observedCount: m,
        details: { bins: psi.bins, materialThreshold: policy.psiThreshold, noiseFloor },
        description: `PSI ${fmt(psi.statistic)} over ${psi.bins} baseline-quantile bins (violation above ${fmt(threshold)})`,
      });
    }
  }

  // Confidence: KS.
  checks.push(ksCheck('confidence_ks', 'confidence', baseline.confidences, observed.confidences));
  constraints.push(ksConstraint('confidence_ks', 'confidence', baseline.confidences));

  // Predicted-class mix: chi-square test of homogeneity + largest share change.
  {
    const reference = baseline.predictedClassCounts;
    const n = reference.reduce((a, b) => a + b, 0);
    const m = observed.classCounts.reduce((a, b) => a + b, 0);
    const shares = (counts: readonly number[], total: number) => counts.map((c) => (total ? c / total : 0));
    const baselineShares = Object.fromEntries(baseline.classNames.map((name, k) => [name, shares(reference, n)[k]]));
    constraints.push({
      metric: 'predicted_class_chi_square',
      feature: 'predicted_class',
      test: 'chi-square',
      statisticName: 'max_class_share_shift',
      threshold: policy.classShareMinimumShift,
      pValueThreshold: alpha,
      minimumSampleSize: min,
      rule: `violation when chi-square p < ${fmt(alpha)} and some class's share of predictions moved by >= ${policy.classShareMinimumShift}`,
      baseline: { count: n, shares: baselineShares },
    });
    if (!enough(n, m)) {
      checks.push(notEvaluated('predicted_class_chi_square', 'predicted_class', 'chi-square', 'max_class_share_shift', policy.classShareMinimumShift, alpha, n, m, insufficient(n, m)));
    } else {
      const test = chiSquareHomogeneity(reference, observed.classCounts);
      const before = shares(reference, n);
      const after = shares(observed.classCounts, m);
      let shift = 0;
      let moved = 0;
      for (let k = 0; k < before.length; k++) {
        if (Math.abs(after[k] - before[k]) > shift) {
          shift = Math.abs(after[k] - before[k]);
          moved = k;
        }
      }
      const violated = test.pValue < alpha && shift >= policy.classShareMinimumShift;
      const name = baseline.classNames[moved] ?? String(moved);
      checks.push({
        metric: 'predicted_class_chi_square',
        feature: 'predicted_class',
        checkType: 'baseline_drift_check',
        test: 'chi-square',
        status: violated ? 'violation' : 'ok',
        statisticName: 'max_class_share_shift',
        observed: shift,
        threshold: policy.classShareMinimumShift,
        pValue: test.pValue,
        pValueThreshold: alpha,
        baselineCount: n,
        observedCount: m,
        details: {
          chiSquare: test.statistic,
          degreesOfFreedom: test.degreesOfFreedom,
          minimumExpectedCount: test.minimumExpected,
          approximationReliable: test.minimumExpected >= 5,
          mostChangedClass: name,
        },
        description: `share of "${name}" ${fmt(before[moved])} -> ${fmt(after[moved])}; chi-square ${fmt(test.statistic)}, p = ${fmt(test.pValue)}`,
      });
    }
  }

  // Input brightness per channel.
  for (const [key, colour] of CHANNELS) {
    checks.push(ksCheck(`brightness_${colour}_ks`, `brightness_${colour}`, baseline.brightness[key], observed.brightness[key]));
    constraints.push(ksConstraint(`brightness_${colour}_ks`, `brightness_${colour}`, baseline.brightness[key]));
  }

  embeddingCheck();
  imageChecks();

  return {
    checks,
    rules: constraints,
    policy,
    significance: { level: policy.significanceLevel, correction: 'bonferroni', checks: CHECK_COUNT, perCheckSignificance: alpha },
  };

  /** Embeddings: log-rank permutation test of the sampled distinct images' atypicality against the validation images'. */
  function embeddingCheck(): void {
    const reference = baseline.embedding;
    const embedding = observed.embedding;
    const n = reference?.validation.rows ?? 0;
    constraints.push({
      metric: 'embedding_log_rank',
      feature: 'embedding',
      test: 'log-rank',
      statisticName: 'log_rank_excess',
      threshold: 0,
      pValueThreshold: alpha,
      minimumSampleSize: min,
      rule: `violation when the distinct sampled inputs are more atypical (mean whitened distance of their stage features to the nearest training images) than the validation images by the log-rank permutation test (${policy.embeddingPermutations} permutations), p < ${fmt(alpha)}`,
      baseline: reference ? { count: n, dimensions: reference.validation.columns, trainingCount: reference.training.rows, normalization: reference.normalization } : { unavailable: 'the model manifest has no embeddings' },
    });
    const unavailable = (why: string): DriftCheck => ({
      ...notEvaluated('embedding_log_rank', 'embedding', 'log-rank', 'log_rank_excess', 0, alpha, n, 0, why),
      status: 'not-available',
    });
    if (!reference) {
      checks.push(unavailable('not evaluated: the model manifest has no embeddings (trained before embedding monitoring); retrain to get them'));
      return;
    }
    if (!embedding || 'unavailable' in embedding) {
      checks.push(unavailable(`not evaluated: ${embedding && 'unavailable' in embedding ? embedding.unavailable : 'no embeddings were computed for the traffic'}`));
      return;
    }
    const m = embedding.distinct;
    if (!enough(n, m) || !embedding.test) {
      checks.push(notEvaluated('embedding_log_rank', 'embedding', 'log-rank', 'log_rank_excess', 0, alpha, n, m, insufficient(n, m)));
      return;
    }
    const { test } = embedding;
    const violated = test.pValue < alpha && test.statistic > 0;
    const pText = test.stoppedEarly ? `p ≥ ${fmt(test.pValue)}` : `p = ${fmt(test.pValue)}`;
    checks.push({
      metric: 'embedding_log_rank',
      feature: 'embedding',
      checkType: 'baseline_drift_check',
      test: 'log-rank',
      status: violated ? 'violation' : 'ok',
      statisticName: 'log_rank_excess',
      observed: test.statistic,
      threshold: 0,
      pValue: test.pValue,
      pValueThreshold: alpha,
      baselineCount: n,
      observedCount: m,
      details: {
        permutations: test.permutations,
        stoppedEarly: test.stoppedEarly,
        neighbours: embedding.neighbours,
        sampled: embedding.sampled,
        outOfDistributionShare: embedding.outOfDistribution.share ?? 0,
        expectedOutOfDistributionShare: embedding.outOfDistribution.expectedShare,
      },
      description:
        `atypicality of the stage features of ${m} distinct sampled inputs vs ${n} validation images: log-rank score excess ${fmt(test.statistic)}, ${pText} ` +
        `(${test.permutations} permutations); ${fmtShare(embedding.outOfDistribution.share)} of sampled inputs are far from the nearest training images (${fmtShare(embedding.outOfDistribution.expectedShare)} expected)`,
    });
  }

  /** Inputs that are not decodable images (completeness) and image sizes the baseline never had (domain). */
  function imageChecks(): void {
    const images = observed.images;
    const features = ['brightness_red', 'brightness_green', 'brightness_blue', 'image_size'];
    for (const feature of features) {
      constraints.push({
        metric: `${feature}_completeness`,
        feature,
        test: 'completeness',
        statisticName: 'completeness',
        threshold: 1,
        pValueThreshold: 1,
        minimumSampleSize: 1,
        rule: 'violation when a sampled input is not a decodable image: the baseline (validation images) is 100 % complete',
        baseline: { completeness: 1 },
      });
      if (!images || images.sampled === 0) {
        checks.push({ ...notEvaluated(`${feature}_completeness`, feature, 'completeness', 'completeness', 1, 1, baseline.count, 0, 'not evaluated: no input was sampled'), checkType: 'completeness_check' });
        continue;
      }
      const completeness = (images.sampled - images.undecodable) / images.sampled;
      checks.push({
        metric: `${feature}_completeness`,
        feature,
        checkType: 'completeness_check',
        test: 'completeness',
        status: completeness < 1 ? 'violation' : 'ok',
        statisticName: 'completeness',
        observed: completeness,
        threshold: 1,
        pValue: null,
        pValueThreshold: 1,
        baselineCount: baseline.count,
        observedCount: images.sampled,
        details: { undecodable: images.undecodable },
        description: `data completeness requirement is not met: ${fmtShare(completeness)} of ${images.sampled} sampled inputs are decodable images (${images.undecodable} not), the baseline's 100 %`,
      });
    }
    const domain = baseline.imageSizes ? Object.keys(baseline.imageSizes).sort() : undefined;
    constraints.push({
      metric: 'image_size_domain',
      feature: 'image_size',
      test: 'domain',
      statisticName: 'share_outside_domain',
      threshold: 0,
      pValueThreshold: 1,
      minimumSampleSize: 1,
      rule: 'violation when a sampled image has a size (width x height) none of the validation images had',
      baseline: domain ? { domain } : { unavailable: 'the model manifest has no image sizes' },
    });
    if (!domain) {
      checks.push({
        ...notEvaluated('image_size_domain', 'image_size', 'domain', 'share_outside_domain', 0, 1, baseline.count, 0, 'not evaluated: the model manifest has no image sizes (trained before they were recorded)'),
        checkType: 'categorical_values_check',
        status: 'not-available',
      });
      return;
    }
    const decoded = images ? images.sampled - images.undecodable : 0;
    if (!images || decoded === 0) {
      checks.push({ ...notEvaluated('image_size_domain', 'image_size', 'domain', 'share_outside_domain', 0, 1, baseline.count, 0, 'not evaluated: no decodable input was sampled'), checkType: 'categorical_values_check' });
      return;
    }
    const outside = Object.entries(images.sizes).filter(([size]) => !domain.includes(size));
    const outsideCount = outside.reduce((s, [, c]) => s + c, 0);
    checks.push({
      metric: 'image_size_domain',
      feature: 'image_size',
      checkType: 'categorical_values_check',
      test: 'domain',
      status: outsideCount > 0 ? 'violation' : 'ok',
      statisticName: 'share_outside_domain',
      observed: outsideCount / decoded,
      threshold: 0,
      pValue: null,
      pValueThreshold: 1,
      baselineCount: baseline.count,
      observedCount: decoded,
      details: { outside: outside.map(([size, c]) => `${size} (${c})`).join(', ') },
      description: outsideCount
        ? `${outsideCount} of ${decoded} sampled images have a size the baseline never had: ${outside.map(([size, c]) => `${size} (${c})`).join(', ')}; baseline sizes: ${domain.join(', ')}`
        : `every sampled image has a baseline size (${domain.join(', ')})`,
    });
  }

  function ksConstraint(metric: string, feature: string, reference: ArrayLike<number>): DriftConstraint {
    return {
      metric,
      feature,
      test: 'kolmogorov-smirnov',
      statisticName: 'ks_d',
      threshold: policy.ksMinimumStatistic,
      pValueThreshold: alpha,
      minimumSampleSize: min,
      rule: `violation when two-sample KS p < ${fmt(alpha)} and D >= ${policy.ksMinimumStatistic}`,
      baseline: { count: reference.length, distribution: describeDistribution(reference) },
    };
  }

  function ksCheck(metric: string, feature: string, reference: ArrayLike<number>, traffic: ArrayLike<number>): DriftCheck {
    const n = reference.length;
    const m = traffic.length;
    if (!enough(n, m)) return notEvaluated(metric, feature, 'kolmogorov-smirnov', 'ks_d', policy.ksMinimumStatistic, alpha, n, m, insufficient(n, m));
    const test = kolmogorovSmirnov(reference, traffic);
    const violated = test.pValue < alpha && test.statistic >= policy.ksMinimumStatistic;
    const before = describeDistribution(reference).p50;
    const after = describeDistribution(traffic).p50;
    return {
      metric,
      feature,
      checkType: 'baseline_drift_check',
      test: 'kolmogorov-smirnov',
      status: violated ? 'violation' : 'ok',
      statisticName: 'ks_d',
      observed: test.statistic,
      threshold: policy.ksMinimumStatistic,
      pValue: test.pValue,
      pValueThreshold: alpha,
      baselineCount: n,
      observedCount: m,
      details: { baselineMedian: before, trafficMedian: after },
      description: `KS D ${fmt(test.statistic)}, p = ${fmt(test.pValue)}; median ${fmt(before)} in the baseline, ${fmt(after)} in traffic`,
    };
  }
}

function notEvaluated(
  metric: string,
  feature: string,
  test: DriftTest,
  statisticName: string,
  threshold: number,
  pValueThreshold: number,
  baselineCount: number,
  observedCount: number,
  description: string,
): DriftCheck {
  return {
    metric,
    feature,
    checkType: 'baseline_drift_check',
    test,
    status: 'insufficient-data',
    statisticName,
    observed: null,
    threshold,
    pValue: null,
    pValueThreshold,
    baselineCount,
    observedCount,
    details: {},
    description,
  };
}
