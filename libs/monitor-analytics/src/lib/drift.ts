import type { MonitoringBaseline } from './baseline';
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
}

export const DEFAULT_DRIFT_POLICY: DriftPolicy = {
  significanceLevel: 0.01,
  minimumSampleSize: 30,
  psiThreshold: 0.2,
  psiBins: 10,
  ksMinimumStatistic: 0.1,
  classShareMinimumShift: 0.1,
};

export type DriftTest = 'population-stability-index' | 'kolmogorov-smirnov' | 'chi-square';
export type DriftStatus = 'ok' | 'violation' | 'insufficient-data';

/** Result of one check, like a line of Model Monitor's constraint_violations.json plus the passes. */
export interface DriftCheck {
  /** Stable identifier, e.g. `confidence_ks`. */
  metric: string;
  /** What is compared: `confidence`, `predicted_class`, `brightness_red`, ... */
  feature: string;
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

/** `constraints.json`: the baseline and every threshold a report applies. */
export interface ConstraintsDocument {
  version: 1;
  baseline: { source: string; jobName: string; count: number; classNames: string[]; threshold: number };
  policy: DriftPolicy & { correction: 'bonferroni'; checks: number; perCheckSignificance: number };
  constraints: DriftConstraint[];
}

export interface DriftViolation {
  metric: string;
  feature: string;
  checkType: 'baseline_drift_check';
  test: DriftTest;
  statisticName: string;
  observed: number;
  threshold: number;
  pValue: number | null;
  pValueThreshold: number;
  description: string;
}

/** `violations.json` (Model Monitor's constraint_violations.json, camel-cased). */
export interface ViolationsDocument {
  version: 1;
  violations: DriftViolation[];
}

export interface DriftReport {
  checks: DriftCheck[];
  constraints: ConstraintsDocument;
  violations: ViolationsDocument;
}

/** What the traffic side of the comparison needs. */
export interface DriftObservations {
  confidences: ArrayLike<number>;
  classCounts: readonly number[];
  brightness: { r: ArrayLike<number>; g: ArrayLike<number>; b: ArrayLike<number> };
}

const CHANNELS = [
  ['r', 'red'],
  ['g', 'green'],
  ['b', 'blue'],
] as const;

/** Number of checks a report runs; fixed, so the per-check level does not depend on the data. */
const CHECK_COUNT = 3 + CHANNELS.length;

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

  const violations: DriftViolation[] = checks
    .filter((c) => c.status === 'violation' && c.observed !== null)
    .map((c) => ({
      metric: c.metric,
      feature: c.feature,
      checkType: 'baseline_drift_check',
      test: c.test,
      statisticName: c.statisticName,
      observed: c.observed as number,
      threshold: c.threshold,
      pValue: c.pValue,
      pValueThreshold: c.pValueThreshold,
      description: c.description,
    }));

  return {
    checks,
    violations: { version: 1, violations },
    constraints: {
      version: 1,
      baseline: { source: baseline.source, jobName: baseline.jobName, count: baseline.count, classNames: baseline.classNames, threshold: baseline.threshold },
      policy: { ...policy, correction: 'bonferroni', checks: CHECK_COUNT, perCheckSignificance: alpha },
      constraints,
    },
  };

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
