import * as tf from '@tensorflow/tfjs';
import { modelManifestSchema } from '@scones/payload-schemas';
import { barImage } from '../../test/fixtures';
import { initBackend } from './backend';
import { createClassifier } from './classifier';
import { buildResNet } from './model';
import { trainClassifier, WeightAverage, type LabeledImage } from './train';
import { learningRateAt, type TrainingConfig } from './training-config';

const TINY: Partial<TrainingConfig> = { epochs: 3, batchSize: 8, widths: [4, 8], blocks: [1, 1], validationFraction: 0.25, learningRate: 0.05, maxImagesPerClass: 0 };

function dataset(perClass: number, offset = 0): LabeledImage[] {
  return Array.from({ length: perClass * 2 }, (_, i) => ({ name: `img${i}`, label: i % 2, image: barImage(i % 2, offset + i) }));
}

describe('trainClassifier', () => {
  // Tiny networks, a few seconds each on an idle machine; generous so a busy one does not fail them.
  jest.setTimeout(60_000);
  const train = dataset(24);
  const test = dataset(10, 1000);

  beforeAll(async () => {
    await initBackend({ threads: false });
  });

  it('trains, keeps the averaged weights of the last epoch and describes the model in a valid manifest', async () => {
    const epochs: number[] = [];
    let steps = 0;
    const result = await trainClassifier({ jobName: 'tiny', classNames: ['horizontal', 'vertical'], train, test, seed: 3, config: TINY, onEpoch: (m) => epochs.push(m.epoch), onStep: () => steps++ });
    const m = result.manifest;
    expect(modelManifestSchema.safeParse(m).success).toBe(true);
    expect(epochs).toEqual([0, 1, 2]);
    expect(steps).toBe(3 * Math.floor(36 / 8));
    expect(m.training).toMatchObject({ seed: 3, epochs: 3, trainCount: 36, validationCount: 12 });
    // The default presets keep the last epoch (of the weight average): no selection on validation noise.
    expect(m.training.bestEpoch).toBe(2);
    expect(m.training.hyperparameters).toMatchObject({ selection: 'last', emaDecay: 0.99, testTimeFlip: false });
    const best = m.training.history[m.training.bestEpoch];
    // The bars are easy: even this tiny network separates them.
    expect(best.validationAccuracy).toBeGreaterThanOrEqual(0.75);
    expect(m.baseline.count).toBe(12);
    expect(m.baseline.confidences).toHaveLength(12);
    expect(m.baseline.brightness.r).toHaveLength(12);
    expect(m.baseline.predictedClassCounts.reduce((a, b) => a + b)).toBe(12);
    expect(m.threshold.targetPrecision).toBe(0.98);
    expect(m.test?.count).toBe(20);
    expect(result.test?.accuracy).toBe(m.test?.accuracy);
    // The model in hand is the selected one, and serving it gives probabilities.
    const classifier = createClassifier(result.model, m);
    const probabilities = await classifier.predictImages(test.map((x) => x.image));
    const accuracy = probabilities.filter((p, i) => (p[1] > p[0] ? 1 : 0) === test[i].label).length / test.length;
    expect(accuracy).toBeCloseTo(m.test!.accuracy, 6);
    classifier.dispose();
  });

  it('keeps the epoch with the best validation accuracy when asked to', async () => {
    const result = await trainClassifier({ jobName: 'best', classNames: ['h', 'v'], train, seed: 5, config: { ...TINY, epochs: 4, selection: 'best', emaDecay: 0, learningRate: 0.2 } });
    const history = result.manifest.training.history;
    const best = history[result.manifest.training.bestEpoch];
    expect(best.validationAccuracy).toBe(Math.max(...history.map((h) => h.validationAccuracy)));
    // The model in hand has the selected epoch's weights: it reproduces that epoch's validation accuracy.
    expect(result.validation.accuracy).toBeCloseTo(best.validationAccuracy, 6);
    result.model.dispose();
  });

  it('averages with the mirror image when the configuration says so, and serves what it reported', async () => {
    const result = await trainClassifier({ jobName: 'flip', classNames: ['h', 'v'], train, test, seed: 2, config: { ...TINY, testTimeFlip: 'always' } });
    expect(result.manifest.training.hyperparameters.testTimeFlip).toBe(true);
    expect(result.flipAverage.chosen).toBe(true);
    expect(result.validation.accuracy).toBe(result.flipAverage.accuracyWith);
    const classifier = createClassifier(result.model, result.manifest);
    const probabilities = await classifier.predictImages(test.map((x) => x.image));
    const accuracy = probabilities.filter((p, i) => (p[1] > p[0] ? 1 : 0) === test[i].label).length / test.length;
    expect(accuracy).toBeCloseTo(result.manifest.test!.accuracy, 6);
    classifier.dispose();
  });

  it('trains more than two classes', async () => {
    const three = Array.from({ length: 36 }, (_, i) => ({ name: `img${i}`, label: i % 3, image: barImage(i % 2, i) }));
    const result = await trainClassifier({ jobName: 'three', classNames: ['a', 'b', 'c'], train: three, test: three.slice(0, 9), config: { ...TINY, epochs: 1 } });
    expect(result.manifest.test?.confusionMatrix).toHaveLength(3);
    expect(result.manifest.test?.confusionMatrix.every((row) => row.length === 3)).toBe(true);
    expect(result.manifest.baseline.predictedClassCounts).toHaveLength(3);
    expect(result.model.outputs[0].shape).toEqual([null, 3]);
    result.model.dispose();
  });

  it('is deterministic for a seed', async () => {
    const run = async (seed: number) => {
      const r = await trainClassifier({ jobName: 'det', classNames: ['a', 'b'], train, seed, config: { ...TINY, epochs: 1 } });
      const weights = r.model.getWeights().map((w) => Array.from(w.dataSync()));
      r.model.dispose();
      return { history: r.manifest.training.history.map(({ seconds: _, ...h }) => h), weights, threshold: r.manifest.threshold };
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(b).toEqual(a);
    expect(c.weights).not.toEqual(a.weights);
  });

  it('stops at once when aborted, leaking no tensors', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const run = trainClassifier({ jobName: 'stop', classNames: ['a', 'b'], train, config: TINY, signal: controller.signal, onStep: (p) => p.done === 2 && controller.abort(new Error('stopped by test')) });
    await expect(run).rejects.toThrow('stopped by test');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects unusable data and configuration', async () => {
    await expect(trainClassifier({ jobName: 'x', classNames: ['a', 'b'], train: [...train, { name: 'odd.png', label: 2, image: barImage(0, 1) }], config: TINY })).rejects.toThrow(
      'train image odd.png: label 2 is out of range for 2 classes (a, b)',
    );
    await expect(trainClassifier({ jobName: 'x', classNames: ['a', 'b', 'c'], train, config: TINY })).rejects.toThrow('every class needs at least 2 training images (one for validation); too few: c (0)');
    await expect(trainClassifier({ jobName: 'x', classNames: ['a', 'b'], train, config: { ...TINY, epochs: 0, validationFraction: 1 } })).rejects.toThrow(
      'training configuration: epochs must be an integer >= 1, got 0; validationFraction must be in (0, 1), got 1',
    );
  });
});

describe('WeightAverage', () => {
  beforeAll(async () => {
    await initBackend({ threads: false });
  });

  it('averages every weight exponentially, with a warm-up of the decay', () => {
    const { model } = buildResNet({ widths: [2], blocks: [0], numClasses: 2, inputSize: { width: 8, height: 8 }, seed: 1 });
    const first = model.getWeights().map((w) => Array.from(w.dataSync()));
    const average = new WeightAverage(model, 0.9);
    const shift = (by: number) => {
      const next = model.getWeights().map((w) => tf.add(w, by));
      model.setWeights(next);
      tf.dispose(next);
    };
    shift(1);
    average.update(); // decay min(0.9, 1/10) = 0.1: 0.1·w0 + 0.9·(w0 + 1)
    shift(1);
    average.update(); // decay min(0.9, 2/11)
    const d = 2 / 11;
    const expected = first.map((w) => w.map((v) => d * (0.1 * v + 0.9 * (v + 1)) + (1 - d) * (v + 2)));
    const snapshot = average.snapshot();
    // Batch-norm moving statistics are averaged too (every weight of the model, not only trainable ones).
    expect(snapshot).toHaveLength(model.weights.length);
    snapshot.forEach((t, i) => Array.from(t.dataSync()).forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 4)));
    // The model keeps its own weights.
    model.getWeights().forEach((t, i) => expect(t.dataSync()[0]).toBeCloseTo(first[i][0] + 2, 5));
    tf.dispose(snapshot);
    average.dispose();
    model.dispose();
  });
});

describe('learningRateAt', () => {
  it('warms up linearly from a tenth of the peak, then decays along a cosine to 0', () => {
    expect(learningRateAt(0, 0.1, 0.2)).toBeCloseTo(0.01, 10);
    expect(learningRateAt(0.1, 0.1, 0.2)).toBeCloseTo(0.055, 10);
    expect(learningRateAt(0.2, 0.1, 0.2)).toBeCloseTo(0.1, 10);
    expect(learningRateAt(0.6, 0.1, 0.2)).toBeCloseTo(0.05, 10);
    expect(learningRateAt(1, 0.1, 0.2)).toBeCloseTo(0, 10);
  });
});
