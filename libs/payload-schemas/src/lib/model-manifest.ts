import * as z from 'zod';
import { nonEmptyString, probability } from './primitives';

/** Per-image mean brightness of each channel (0..1) of a set of images. */
export const brightnessSampleSchema = z.object({
  r: z.array(z.number()),
  g: z.array(z.number()),
  b: z.array(z.number()),
});

/**
 * The monitoring baseline: what the model's predictions and inputs look like on the validation
 * split of the training data (never the test set).
 */
export const monitoringBaselineSchema = z.object({
  /** Number of validation images the baseline was computed from. */
  count: z.number().int().positive(),
  /** Top-1 confidence of each validation prediction. */
  confidences: z.array(probability),
  /** How many validation images were predicted as each class (class order of the artifact). */
  predictedClassCounts: z.array(z.number().int().nonnegative()),
  /** Per-image mean brightness per channel of the validation inputs. */
  brightness: brightnessSampleSchema,
});
export type MonitoringBaseline = z.output<typeof monitoringBaselineSchema>;

/** The filter Lambda's default threshold, chosen on validation predictions. */
export const thresholdRecommendationSchema = z.object({
  /** Lowest confidence threshold whose passed predictions reach `targetPrecision` on validation data. */
  value: probability,
  targetPrecision: probability,
  /** Precision of the predictions that pass `value` on the validation split. */
  precision: probability,
  /** Share of validation images that pass `value`. */
  coverage: probability,
});
export type ThresholdRecommendation = z.output<typeof thresholdRecommendationSchema>;

const epochMetricsSchema = z.object({
  epoch: z.number().int().nonnegative(),
  trainLoss: z.number(),
  trainAccuracy: z.number(),
  validationLoss: z.number(),
  validationAccuracy: z.number(),
  learningRate: z.number(),
  seconds: z.number(),
});

/** `manifest.json` of a model artifact directory (`models/<job>/`). */
export const modelManifestSchema = z.object({
  format: z.literal('scones-image-classifier', { error: 'expected "scones-image-classifier"' }),
  formatVersion: z.literal(1, { error: 'expected format version 1' }),
  jobName: nonEmptyString,
  createdAt: z.iso.datetime(),
  classNames: z.array(nonEmptyString).min(2, { error: 'expected at least two class names' }),
  /** Preprocessing applied to every input, in training and serving alike. */
  preprocessing: z.object({
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    channels: z.literal(3),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number(), z.number(), z.number()]),
  }),
  /** Relative path of the tfjs `model.json` inside the artifact. */
  modelPath: nonEmptyString,
  training: z.object({
    seed: z.number().int(),
    epochs: z.number().int().positive(),
    bestEpoch: z.number().int().nonnegative(),
    trainCount: z.number().int().nonnegative(),
    validationCount: z.number().int().nonnegative(),
    seconds: z.number().nonnegative(),
    history: z.array(epochMetricsSchema),
    hyperparameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  }),
  /** Figures on the held-out test channel, computed once after training (never used to select). */
  test: z
    .object({
      count: z.number().int().nonnegative(),
      accuracy: z.number(),
      confusionMatrix: z.array(z.array(z.number().int().nonnegative())),
      precision: z.array(z.number()),
      recall: z.array(z.number()),
    })
    .optional(),
  threshold: thresholdRecommendationSchema,
  baseline: monitoringBaselineSchema,
});
export type ModelManifest = z.output<typeof modelManifestSchema>;
