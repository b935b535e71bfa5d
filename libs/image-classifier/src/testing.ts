// Test helpers (not part of the production API). A real (untrained) model artifact for the tests
// and benchmarks of the serving projects: the training preset's ResNet architecture (or a tiny one)
// with its initial weights, saved by this library's own saveArtifact, so loadClassifier reads it
// exactly like a trained one.
import { saveArtifact, type ArtifactLocation } from './lib/artifact';
import { initBackend } from './lib/backend';
import { buildResNet } from './lib/model';
import { TRAINING_PRESETS } from './lib/training-config';
import type { ModelManifest } from '@scones/payload-schemas';

export interface FixtureArtifactOptions {
  /** `tiny` (default, loads in milliseconds) or the `full` training preset's network. */
  size?: 'tiny' | 'full';
  jobName?: string;
  classNames?: string[];
}

export async function writeFixtureArtifact(location: ArtifactLocation, options: FixtureArtifactOptions = {}): Promise<ModelManifest> {
  await initBackend();
  const classNames = options.classNames ?? ['bicycle', 'motorcycle'];
  const architecture = options.size === 'full' ? TRAINING_PRESETS.full : { widths: [4, 8], blocks: [1, 1] };
  const { model } = buildResNet({ ...architecture, numClasses: classNames.length, inputSize: { width: 32, height: 32 }, seed: 7 });
  const manifest: ModelManifest = {
    format: 'scones-image-classifier',
    formatVersion: 1,
    jobName: options.jobName ?? 'fixture-job',
    createdAt: new Date().toISOString(),
    classNames,
    preprocessing: { width: 32, height: 32, channels: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    modelPath: 'model.json',
    training: { seed: 7, epochs: 1, bestEpoch: 0, trainCount: 0, validationCount: 1, seconds: 0, history: [], hyperparameters: { fixture: true } },
    threshold: { value: 0.8, targetPrecision: 0.98, precision: 1, coverage: 1 },
    baseline: { count: 1, confidences: [0.9], predictedClassCounts: classNames.map((_, i) => (i === 0 ? 1 : 0)), brightness: { r: [0.5], g: [0.5], b: [0.5] } },
  };
  try {
    await saveArtifact({ model, manifest }, location);
  } finally {
    // The logits model shares these layers: disposing one frees both.
    model.dispose();
  }
  return manifest;
}
