import * as tf from '@tensorflow/tfjs';
import { barImage } from '../../test/fixtures';
import { initBackend } from './backend';
import { compileInferenceGraph } from './inference-graph';
import { buildResNet, type ResNetConfig } from './model';
import { preprocess } from './preprocess';

const P = { width: 32, height: 32, channels: 3 as const, mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.25, 0.25, 0.25] as [number, number, number] };

/** A model with non-trivial batch-norm statistics and scales, as after training. */
function trainedLike(config: Omit<ResNetConfig, 'numClasses' | 'inputSize' | 'seed'>): tf.LayersModel {
  const { model } = buildResNet({ ...config, numClasses: 3, inputSize: { width: 32, height: 32 }, seed: 3 });
  let seed = 1;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    // gamma, beta, moving mean, moving variance
    const [gamma, beta, mean, variance] = layer.getWeights();
    const updated = [tf.randomUniform(gamma.shape, 0.5, 1.5, 'float32', seed++), tf.randomUniform(beta.shape, -0.5, 0.5, 'float32', seed++), tf.randomUniform(mean.shape, -1, 1, 'float32', seed++), tf.randomUniform(variance.shape, 0.5, 2, 'float32', seed++)];
    layer.setWeights(updated);
    tf.dispose(updated);
  }
  return model;
}

const maxDifference = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('compileInferenceGraph', () => {
  beforeAll(async () => {
    await initBackend({ threads: false });
  });

  const architectures: Array<[string, Omit<ResNetConfig, 'numClasses' | 'inputSize' | 'seed'>]> = [
    ['CIFAR ResNet (projection shortcuts, zero-init branches)', { architecture: 'resnet', widths: [4, 8], blocks: [1, 1] }],
    ['ResNet-9', { architecture: 'resnet9', widths: [4, 8, 8], blocks: [0, 1, 1] }],
    ['compact', { architecture: 'compact', stemWidth: 8, widths: [8, 16], blocks: [0, 1] }],
  ];

  it.each(architectures)('%s: folds batch norm and computes what the layers model computes', (_, config) => {
    const model = trainedLike(config);
    const x = preprocess([barImage(0, 1), barImage(1, 2), barImage(0, 3)], P);
    const expected = model.predict(x) as tf.Tensor2D;
    const base = tf.memory().numTensors;
    const graph = compileInferenceGraph(model);
    const [probabilities, features] = tf.tidy(() => {
      const outputs = graph.run(x);
      return [outputs.probabilities, outputs.features];
    });
    expect(probabilities.shape).toEqual([3, 3]);
    expect(maxDifference(probabilities, expected)).toBeLessThan(1e-5);
    // The features are the input of the dense layer: applying it gives the logits.
    const [kernel, bias] = model.getLayer('logits').getWeights();
    const fromFeatures = tf.tidy(() => tf.softmax(tf.add(tf.matMul(features, kernel), bias)));
    expect(maxDifference(fromFeatures, expected)).toBeLessThan(1e-5);
    expect(features.shape[1]).toBe(config.widths[config.widths.length - 1]);
    tf.dispose([probabilities, features, fromFeatures]);
    // The graph owns copies (it outlives a disposed model) and frees exactly what it holds.
    const beforeModelDisposal = tf.memory().numTensors;
    model.dispose();
    const freedWithModel = beforeModelDisposal - tf.memory().numTensors;
    expect(tf.tidy(() => graph.run(x).probabilities.dataSync()[0])).toBeCloseTo(expected.dataSync()[0], 5);
    graph.dispose();
    expect(() => graph.run(x)).toThrow('was disposed');
    expect(tf.memory().numTensors).toBe(base - freedWithModel);
    tf.dispose([x, expected]);
  });

  it.each([
    // The stem's map and each stage's before the 2×2 pools, and the last map before the global pool.
    ['compact', { architecture: 'compact', stemWidth: 8, widths: [8, 16], blocks: [0, 1] }, [8, 8, 16]],
    // ResNet-9 pools after each later stage's first conv, then averages the last map.
    ['ResNet-9', { architecture: 'resnet9', widths: [4, 8, 8], blocks: [0, 1, 1] }, [8, 8, 8]],
    // Strided convolutions, no pooling layer: the last map only.
    ['CIFAR ResNet', { architecture: 'resnet', widths: [4, 8], blocks: [1, 1] }, [8]],
  ] as Array<[string, Omit<ResNetConfig, 'numClasses' | 'inputSize' | 'seed'>, number[]]>)(
    '%s: embeds each pooled map as the unit-length block of its channels’ means and standard deviations',
    (_, config, stageChannels) => {
      const model = trainedLike(config);
      const x = preprocess([barImage(0, 1), barImage(1, 2)], P);
      const graph = compileInferenceGraph(model);
      const embedding = tf.tidy(() => graph.embed(x));
      expect(graph.embeddingSize).toBe(stageChannels.reduce((s, c) => s + 2 * c, 0));
      expect(embedding.shape).toEqual([2, graph.embeddingSize]);
      const rows = embedding.arraySync();
      for (const row of rows) {
        let offset = 0;
        for (const c of stageChannels) {
          const block = row.slice(offset, offset + 2 * c);
          expect(Math.hypot(...block)).toBeCloseTo(1, 5);
          // Standard deviations are never negative.
          expect(Math.min(...block.slice(c))).toBeGreaterThanOrEqual(0);
          offset += 2 * c;
        }
      }
      // The last block's means point the way of the final layer's input (its global average).
      const last = stageChannels[stageChannels.length - 1];
      const features = tf.tidy(() => graph.run(x).features);
      features.arraySync().forEach((f, i) => {
        const means = rows[i].slice(graph.embeddingSize - 2 * last, graph.embeddingSize - last);
        const cosine = f.reduce((s, v, k) => s + v * means[k], 0) / (Math.hypot(...f) * Math.hypot(...means));
        expect(cosine).toBeCloseTo(1, 5);
      });
      // Different images, different descriptions.
      expect(rows[0]).not.toEqual(rows[1]);
      tf.dispose([embedding, features, x]);
      graph.dispose();
      model.dispose();
      expect(() => graph.embed(x)).toThrow('was disposed');
    },
  );

  it('refuses a layer kind it does not know, naming the layer', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const pooled = tf.layers.globalAveragePooling2d({}).apply(tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'tanh', name: 'odd_conv' }).apply(input)) as tf.SymbolicTensor;
    const out = tf.layers.softmax().apply(tf.layers.dense({ units: 2 }).apply(pooled)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    expect(() => compileInferenceGraph(model)).toThrow('layer odd_conv: activation tanh is not supported by the serving graph');
    const before = tf.memory().numTensors;
    const normalised = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 2, name: 'd1' }), tf.layers.layerNormalization({ name: 'norm' }), tf.layers.dense({ units: 2 }), tf.layers.softmax()] });
    expect(() => compileInferenceGraph(normalised)).toThrow('layer norm: LayerNormalization is not supported by the serving graph');
    expect(tf.memory().numTensors).toBe(before + normalised.weights.length);
    model.dispose();
    normalised.dispose();
  });
});
