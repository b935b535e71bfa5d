import { modelManifestSchema } from './model-manifest';
import { parseOrThrow } from './parse';

const validManifest = () => ({
  format: 'scones-image-classifier',
  formatVersion: 1,
  jobName: 'scones-2026-11-23-07-00-00',
  createdAt: '2026-11-23T07:00:00.000Z',
  classNames: ['bicycle', 'motorcycle'],
  preprocessing: { width: 32, height: 32, channels: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
  modelPath: 'model/model.json',
  training: {
    seed: 42,
    epochs: 2,
    bestEpoch: 1,
    trainCount: 900,
    validationCount: 100,
    seconds: 12.5,
    history: [{ epoch: 0, trainLoss: 0.6, trainAccuracy: 0.7, validationLoss: 0.5, validationAccuracy: 0.75, learningRate: 0.01, seconds: 6 }],
    hyperparameters: { batchSize: 64, labelSmoothing: 0.1 },
  },
  threshold: { value: 0.8, targetPrecision: 0.98, precision: 0.985, coverage: 0.7 },
  baseline: { count: 2, confidences: [0.9, 0.6], predictedClassCounts: [1, 1], brightness: { r: [0.4, 0.5], g: [0.4, 0.5], b: [0.4, 0.5] } },
});

describe('modelManifestSchema', () => {
  it('accepts a complete manifest', () => {
    expect(parseOrThrow(modelManifestSchema, validManifest(), 'manifest.json').classNames).toEqual(['bicycle', 'motorcycle']);
  });
  it('rejects a foreign format, one class and an out-of-range threshold', () => {
    const m = { ...validManifest(), format: 'mxnet', classNames: ['bicycle'], threshold: { ...validManifest().threshold, value: 1.5 } };
    expect(() => parseOrThrow(modelManifestSchema, m, 'manifest.json')).toThrow(
      'manifest.json: format: expected "scones-image-classifier"; classNames: expected at least two class names; threshold.value: expected a probability <= 1',
    );
  });
});
