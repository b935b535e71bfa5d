import * as z from 'zod';

/*
 * SageMaker Model Monitor's three report files, field for field as the AWS documentation gives
 * them (Amazon SageMaker Developer Guide: "Schema for Statistics (statistics.json file)",
 * "Schema for Constraints (constraints.json file)", "Schema for Violations
 * (constraint_violations.json file)"). Written from the documentation, not from our writer:
 * these schemas are what the tests hold the files to. Objects are strict where the documentation
 * lists every field, so a file cannot carry a field a Model Monitor reader would not know;
 * `monitoringConfigOverrides`, documented as an open object, stays open.
 */

const count = z.number().int().nonnegative();
const finite = z.number().refine(Number.isFinite, { error: 'expected a finite number' });
const enabled = z.enum(['Enabled', 'Disabled']);

/** `common`: how many rows have a value for the feature and how many do not. */
const commonSchema = z.strictObject({ num_present: count, num_missing: count });

/** One KLL bucket: `count` values in [lower_bound, upper_bound]. */
const kllBucketSchema = z.strictObject({ lower_bound: finite, upper_bound: finite, count: z.number().nonnegative() });

/** A KLL quantiles sketch: parameters `c` and `k`, and its compactors (`data[h]` has weight 2^h). */
const kllSketchSchema = z.strictObject({
  parameters: z.strictObject({ c: z.number().positive(), k: z.number().positive() }),
  data: z.array(z.array(finite)),
});

const numericalStatisticsSchema = z
  .strictObject({
    common: commonSchema,
    // Documented as always present; a feature with no value has no mean or range, and they are
    // then left out rather than written as invented numbers (see the README).
    mean: finite.optional(),
    sum: finite.optional(),
    std_dev: z.number().nonnegative().optional(),
    min: finite.optional(),
    max: finite.optional(),
    distribution: z.strictObject({ kll: z.strictObject({ buckets: z.array(kllBucketSchema), sketch: kllSketchSchema }) }).optional(),
  })
  .refine((s) => s.common.num_present === 0 || [s.mean, s.sum, s.std_dev, s.min, s.max, s.distribution].every((v) => v !== undefined), {
    error: 'mean, sum, std_dev, min, max and distribution are required when num_present > 0',
  });

const stringStatisticsSchema = z.strictObject({
  common: commonSchema,
  distinct_count: count,
  distribution: z.strictObject({ categorical: z.strictObject({ buckets: z.array(z.strictObject({ value: z.string(), count: z.number().nonnegative() })) }) }),
});

export const statisticsFeatureSchema = z.discriminatedUnion('inferred_type', [
  z.strictObject({ name: z.string().min(1), inferred_type: z.enum(['Fractional', 'Integral']), numerical_statistics: numericalStatisticsSchema }),
  z.strictObject({ name: z.string().min(1), inferred_type: z.literal('String'), string_statistics: stringStatisticsSchema }),
]);

/** `statistics.json`: per-feature statistics of a dataset (the baseline, or the data one execution analysed). */
export const statisticsFileSchema = z.strictObject({
  version: z.number(),
  dataset: z.strictObject({ item_count: count }),
  features: z.array(statisticsFeatureSchema),
});

export const constraintFeatureSchema = z.strictObject({
  name: z.string().min(1),
  inferred_type: z.enum(['Integral', 'Fractional', 'String', 'Unknown']),
  /** Observed share of non-null values (0..1). */
  completeness: z.number().min(0).max(1),
  num_constraints: z.strictObject({ is_non_negative: z.boolean() }).optional(),
  string_constraints: z.strictObject({ domains: z.array(z.string()) }).optional(),
  monitoringConfigOverrides: z.record(z.string(), z.unknown()).optional(),
});

export const monitoringConfigSchema = z.strictObject({
  evaluate_constraints: enabled,
  emit_metrics: enabled,
  datatype_check_threshold: z.number(),
  domain_content_threshold: z.number(),
  distribution_constraints: z.strictObject({
    perform_comparison: enabled,
    comparison_threshold: z.number(),
    comparison_method: z.enum(['Simple', 'Robust']),
    categorical_comparison_threshold: z.number().optional(),
    categorical_drift_method: z.enum(['LInfinity', 'ChiSquared']).optional(),
  }),
});

/** `constraints.json`: what every later dataset must satisfy, suggested from the baseline. */
export const constraintsFileSchema = z.strictObject({
  version: z.number(),
  features: z.array(constraintFeatureSchema),
  monitoring_config: monitoringConfigSchema,
});

/** The documented `constraint_check_type` values. */
export const CONSTRAINT_CHECK_TYPES = [
  'data_type_check',
  'completeness_check',
  'baseline_drift_check',
  'missing_column_check',
  'extra_column_check',
  'categorical_values_check',
] as const;
export type ConstraintCheckType = (typeof CONSTRAINT_CHECK_TYPES)[number];

export const violationSchema = z.strictObject({
  feature_name: z.string().min(1),
  constraint_check_type: z.enum(CONSTRAINT_CHECK_TYPES),
  description: z.string().min(1),
});

/** `constraint_violations.json`: the constraints one execution found violated. */
export const constraintViolationsFileSchema = z.strictObject({ violations: z.array(violationSchema) });

export type StatisticsFile = z.output<typeof statisticsFileSchema>;
export type StatisticsFeature = z.output<typeof statisticsFeatureSchema>;
export type ConstraintsFile = z.output<typeof constraintsFileSchema>;
export type ConstraintFeature = z.output<typeof constraintFeatureSchema>;
export type MonitoringConfig = z.output<typeof monitoringConfigSchema>;
export type ConstraintViolation = z.output<typeof violationSchema>;
export type ConstraintViolationsFile = z.output<typeof constraintViolationsFileSchema>;

/** The Model Monitor file names, as a monitoring execution and a baselining job write them. */
export const MODEL_MONITOR_FILES = {
  statistics: 'statistics.json',
  constraints: 'constraints.json',
  violations: 'constraint_violations.json',
} as const;

export const MODEL_MONITOR_SCHEMAS = {
  statistics: statisticsFileSchema,
  constraints: constraintsFileSchema,
  violations: constraintViolationsFileSchema,
} as const;
