// Testing entry point (`@scones/report/testing`): a small real model artifact whose manifest has
// the monitoring baseline with embeddings, for tests of the report job that embed images. Not
// used on the production path.
import type * as tf from '@tensorflow/tfjs';
import { buildResNet, computeBaseline, embedImages, initBackend, predictProbabilities, saveArtifact, TRAINING_PRESETS, type ArtifactLocation, type RgbImage } from '@scones/image-classifier';
import { syntheticManifest } from '@scones/monitor-analytics';
import type { ModelManifest } from '@scones/payload-schemas';

export interface SyntheticModelOptions {
  jobName: string;
  /** Validation images: the baseline (confidence, brightness, sizes, embeddings). */
  validation: readonly RgbImage[];
  /** Training images: the out-of-distribution reference. */
  training: readonly RgbImage[];
  classNames?: string[];
  threshold?: number;
  /** Seeds the network's initial (and only) weights. */
  seed?: number;
  /** `small` (default): a 2-stage network, fast in tests; `full`: the full training preset's shape, for benchmarks (costs what the trained model costs). */
  shape?: 'small' | 'full';
}

/** The network and its manifest in memory (see {@link writeSyntheticModel}); the caller disposes the model. */
export async function buildSyntheticModel(options: SyntheticModelOptions): Promise<{ model: tf.LayersModel; manifest: ModelManifest }> {
  await initBackend();
  const classNames = options.classNames ?? ['bicycle', 'motorcycle'];
  const preprocessing = { width: 32, height: 32, channels: 3 as const, mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.25, 0.25, 0.25] as [number, number, number] };
  const shape = options.shape === 'full' ? TRAINING_PRESETS.full : { widths: [4, 8], blocks: [1, 1] };
  const { model } = buildResNet({ ...shape, numClasses: classNames.length, inputSize: { width: 32, height: 32 }, seed: options.seed ?? 7 });
  const draft = { ...syntheticManifest({ jobName: options.jobName, classNames, threshold: options.threshold, baseline: { count: 1, confidences: [1], predictedClassCounts: classNames.map(() => 0), brightness: { r: [0], g: [0], b: [0] } } }), preprocessing, modelPath: 'model.json' };
  const probabilities = predictProbabilities(model, options.validation, preprocessing);
  const manifest: ModelManifest = {
    ...draft,
    baseline: computeBaseline(options.validation, probabilities, classNames.length, {
      validation: embedImages(model, options.validation, preprocessing),
      training: embedImages(model, options.training, preprocessing),
    }),
  };
  return { model, manifest };
}

/**
 * Saves an untrained 2-stage ResNet with a manifest computed from its own predictions and
 * embeddings of `validation` and `training`, as training would, to a directory or S3 prefix.
 * Untrained weights still give each image a deterministic embedding, which is all the report's
 * plumbing needs; what embeddings reveal on real data is measured by the benchmark.
 */
export async function writeSyntheticModel(location: ArtifactLocation, options: SyntheticModelOptions): Promise<ModelManifest> {
  const { model, manifest } = await buildSyntheticModel(options);
  try {
    await saveArtifact({ model, manifest }, location);
  } finally {
    model.dispose();
  }
  return manifest;
}
