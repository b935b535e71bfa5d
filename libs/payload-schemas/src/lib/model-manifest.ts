import * as z from 'zod';
import { base64String, nonEmptyString, probability } from './primitives';

/** Per-image mean brightness of each channel (0..1) of a set of images. */
export const brightnessSampleSchema = z.object({
  r: z.array(z.number()),
  g: z.array(z.number()),
  b: z.array(z.number()),
});

/**
 * A float32 matrix in JSON: `rows` × `columns` values, row-major, as the base64 of their
 * little-endian bytes (exact, and 5.3 bytes per value instead of ~20 as decimal text).
 */
export const float32MatrixSchema = z
  .object({
    rows: z.number().int().nonnegative(),
    columns: z.number().int().positive(),
    base64: base64String,
  })
  .refine((m) => Buffer.byteLength(m.base64, 'base64') === m.rows * m.columns * 4, {
    error: 'base64 does not hold rows × columns float32 values',
    path: ['base64'],
  });
export type Float32MatrixJson = z.output<typeof float32MatrixSchema>;

/** Row vectors (all the same length) as a {@link float32MatrixSchema} value; little-endian whatever the machine. */
export function encodeFloat32Matrix(rows: readonly ArrayLike<number>[]): Float32MatrixJson {
  const columns = rows[0]?.length ?? 0;
  if (columns === 0) throw new RangeError('a float32 matrix needs at least one column');
  const bytes = Buffer.alloc(rows.length * columns * 4);
  rows.forEach((row, r) => {
    if (row.length !== columns) throw new RangeError(`row ${r} has ${row.length} values, expected ${columns}`);
    for (let c = 0; c < columns; c++) bytes.writeFloatLE(row[c], (r * columns + c) * 4);
  });
  return { rows: rows.length, columns, base64: bytes.toString('base64') };
}

/** The values of a (validated) {@link float32MatrixSchema} value, row-major. */
export function decodeFloat32Matrix(matrix: Float32MatrixJson): Float32Array {
  const bytes = Buffer.from(matrix.base64, 'base64');
  const values = new Float32Array(matrix.rows * matrix.columns);
  for (let i = 0; i < values.length; i++) values[i] = bytes.readFloatLE(i * 4);
  return values;
}

/**
 * The model's own view of the validation and training inputs (`Classifier.embed`), for embedding
 * drift and out-of-distribution monitoring. The monitoring rules (metric, distance threshold) are
 * derived from these by the monitor.
 */
export const embeddingBaselineSchema = z
  .object({
    /**
     * Which features: `stages`, per-channel mean and standard deviation of every pooled feature map
     * (`penultimate`, the final layer's input, in manifests of earlier versions: the monitor no
     * longer compares those).
     */
    layer: z.enum(['penultimate', 'stages']),
    /** How each vector was normalised before storing (traffic embeddings must be treated alike). */
    normalization: z.enum(['none', 'l2']),
    /** Validation images' embeddings: the reference sample of the drift test. */
    validation: float32MatrixSchema,
    /** Training images' embeddings: "far from every training image" is measured against these. */
    training: float32MatrixSchema,
  })
  .refine((e) => e.validation.columns === e.training.columns, { error: 'validation and training embeddings have different lengths', path: ['training', 'columns'] });
export type EmbeddingBaseline = z.output<typeof embeddingBaselineSchema>;

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
  /** Validation images per size, `"<width>x<height>"` → count (absent in manifests written before it). */
  imageSizes: z.record(z.string().regex(/^\d+x\d+$/, { error: 'expected "<width>x<height>"' }), z.number().int().positive()).optional(),
  /** Penultimate-layer embeddings (absent in manifests written before embedding monitoring). */
  embedding: embeddingBaselineSchema.optional(),
});
export type MonitoringBaseline = z.output<typeof monitoringBaselineSchema>;

/** The filter Lambda's default threshold, chosen on validation predictions. */
export const thresholdRecommendationSchema = z.object({
  /** Confidence threshold chosen on validation data for `targetPrecision` (see `method`). */
  value: probability,
  targetPrecision: probability,
  /** Precision of the predictions that pass `value` on the validation split. */
  precision: probability,
  /** Share of validation images that pass `value`. */
  coverage: probability,
  /** How `value` was chosen (absent in manifests written before the bootstrap median). */
  method: z.string().optional(),
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
