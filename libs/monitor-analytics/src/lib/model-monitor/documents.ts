import type { MonitoringBaseline } from '../baseline';
import type { DriftCheck, DriftPolicy } from '../drift';
import { embeddingRules } from '../embedding-drift';
import { sortedCopy } from '../statistics';
import { KllSketch } from './kll-sketch';
import type { ConstraintFeature, ConstraintsFile, ConstraintViolationsFile, StatisticsFeature, StatisticsFile } from './schema';

/*
 * The monitored features of an image endpoint, in Model Monitor's terms (one row = one request):
 *   confidence          Fractional  top-1 probability of the endpoint's answer (every request)
 *   predicted_class     String      the predicted class name (every request)
 *   brightness_red|green|blue  Fractional  per-image mean of the channel, 0..1 (the image sample)
 *   image_size          String      "<width>x<height>" (the image sample)
 *   embedding_distance  Fractional  mean whitened distance of the model's embedding of the input to
 *                                   the nearest training images' (the embedding sample)
 *   embedding           Unknown     the embedding vector itself (constraints only: the drift test)
 * Sampled features count the sampled inputs: num_present + num_missing is the sample size, not
 * item_count (see the README).
 */

/** Model Monitor materialises distributions in 10 buckets. */
const BUCKETS = 10;
/** The KLL parameters Model Monitor writes. */
const KLL = { k: 2048, c: 0.64 };

export function numericalFeature(name: string, values: ArrayLike<number>, missing: number, inferredType: 'Fractional' | 'Integral' = 'Fractional'): StatisticsFeature {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  const common = { num_present: n, num_missing: missing };
  if (n === 0) return { name, inferred_type: inferredType, numerical_statistics: { common } };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (sorted[i] - mean) ** 2;
  const min = sorted[0];
  const max = sorted[n - 1];
  // Equal-width buckets over [min, max]; the last one includes max.
  const width = (max - min) / BUCKETS;
  const counts = new Array<number>(BUCKETS).fill(0);
  for (let i = 0; i < n; i++) counts[width > 0 ? Math.min(BUCKETS - 1, Math.floor((sorted[i] - min) / width)) : 0] += 1;
  const buckets = counts.map((count, b) => ({ lower_bound: min + b * width, upper_bound: b === BUCKETS - 1 ? max : min + (b + 1) * width, count }));
  const sketch = new KllSketch(KLL.k, KLL.c);
  for (let i = 0; i < n; i++) sketch.update(sorted[i]);
  return {
    name,
    inferred_type: inferredType,
    numerical_statistics: {
      common,
      mean,
      sum,
      // Population standard deviation, as Spark's Deequ (Model Monitor's analyser) computes it.
      std_dev: Math.sqrt(squares / n),
      min,
      max,
      distribution: { kll: { buckets, sketch: { parameters: { c: KLL.c, k: KLL.k }, data: sketch.levels() } } },
    },
  };
}

export function stringFeature(name: string, counts: Record<string, number>, missing: number): StatisticsFeature {
  const buckets = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([value, count]) => ({ value, count }));
  const present = buckets.reduce((s, b) => s + b.count, 0);
  return {
    name,
    inferred_type: 'String',
    string_statistics: { common: { num_present: present, num_missing: missing }, distinct_count: buckets.length, distribution: { categorical: { buckets } } },
  };
}

/** The figures of a dataset (the baseline's validation images, or a report's window) that statistics.json holds. */
export interface FeatureData {
  itemCount: number;
  confidences: ArrayLike<number>;
  classNames: readonly string[];
  classCounts: readonly number[];
  brightness: { r: ArrayLike<number>; g: ArrayLike<number>; b: ArrayLike<number> };
  /** Sampled inputs that were not decodable images (missing for the image features). */
  undecodable: number;
  imageSizes?: Record<string, number>;
  embeddingDistances?: ArrayLike<number>;
}

/** `statistics.json` of a dataset. */
export function statisticsFile(data: FeatureData): StatisticsFile {
  const classes = Object.fromEntries(data.classNames.map((name, k) => [name, data.classCounts[k] ?? 0]));
  const features: StatisticsFeature[] = [
    numericalFeature('confidence', data.confidences, 0),
    stringFeature('predicted_class', classes, 0),
    numericalFeature('brightness_red', data.brightness.r, data.undecodable),
    numericalFeature('brightness_green', data.brightness.g, data.undecodable),
    numericalFeature('brightness_blue', data.brightness.b, data.undecodable),
  ];
  if (data.imageSizes) features.push(stringFeature('image_size', data.imageSizes, data.undecodable));
  if (data.embeddingDistances) features.push(numericalFeature('embedding_distance', data.embeddingDistances, 0));
  return { version: 0, dataset: { item_count: data.itemCount }, features };
}

/** The baseline's figures as {@link FeatureData}: its validation images, as the model saw them at training time. */
export function baselineFeatureData(baseline: MonitoringBaseline): FeatureData {
  return {
    itemCount: baseline.count,
    confidences: baseline.confidences,
    classNames: baseline.classNames,
    classCounts: baseline.predictedClassCounts,
    brightness: baseline.brightness,
    undecodable: 0,
    imageSizes: baseline.imageSizes,
    embeddingDistances: baseline.embedding ? embeddingRules(baseline.embedding).validationDistances : undefined,
  };
}

/**
 * `constraints.json` suggested from the baseline: every feature complete, numbers non-negative,
 * class names and image sizes as the string domains, and the drift rule in Model Monitor's
 * terms: a distribution distance (Kolmogorov-Smirnov for numbers, L∞ of the shares for classes)
 * of at least 0.1, compared the "Robust" way (only when also statistically significant).
 */
export function constraintsFile(baseline: MonitoringBaseline, policy: DriftPolicy): ConstraintsFile {
  const numeric = (name: string): ConstraintFeature => ({ name, inferred_type: 'Fractional', completeness: 1, num_constraints: { is_non_negative: true } });
  const features: ConstraintFeature[] = [
    numeric('confidence'),
    { name: 'predicted_class', inferred_type: 'String', completeness: 1, string_constraints: { domains: [...baseline.classNames] } },
    numeric('brightness_red'),
    numeric('brightness_green'),
    numeric('brightness_blue'),
  ];
  if (baseline.imageSizes) features.push({ name: 'image_size', inferred_type: 'String', completeness: 1, string_constraints: { domains: Object.keys(baseline.imageSizes).sort() } });
  if (baseline.embedding) features.push(numeric('embedding_distance'), { name: 'embedding', inferred_type: 'Unknown', completeness: 1 });
  return {
    version: 0,
    features,
    monitoring_config: {
      evaluate_constraints: 'Enabled',
      // No CloudWatch metrics are emitted: the report Lambda logs each violation instead.
      emit_metrics: 'Disabled',
      datatype_check_threshold: 1,
      domain_content_threshold: 1,
      distribution_constraints: {
        perform_comparison: 'Enabled',
        comparison_threshold: policy.ksMinimumStatistic,
        comparison_method: 'Robust',
        categorical_comparison_threshold: policy.classShareMinimumShift,
        categorical_drift_method: 'LInfinity',
      },
    },
  };
}

/** `constraint_violations.json`: one entry per violated check, in the report's order. */
export function violationsFile(checks: readonly DriftCheck[]): ConstraintViolationsFile {
  return {
    violations: checks
      .filter((c) => c.status === 'violation')
      .map((c) => ({ feature_name: c.feature, constraint_check_type: c.checkType, description: `${c.metric}: ${c.description}` })),
  };
}
