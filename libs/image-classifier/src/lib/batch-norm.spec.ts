import * as tf from '@tensorflow/tfjs';
import { relativeError, values } from '../../test/tf-helpers';
import { initBackend } from './backend';
import { batchNormTraining, fastBatchNormalization } from './batch-norm';

describe('fast batch normalisation', () => {
  beforeAll(async () => {
    await initBackend({ threads: false });
  });

  it.each([[[4, 5, 5, 3]], [[10, 3]]])('has the gradient of the textbook formula (tf.moments + tf.batchNorm), shape %j', (shape) => {
    const n = shape.reduce((a, b) => a * b);
    const axes = shape.slice(0, -1).map((_, i) => i);
    const x = tf.tensor(values(n, 1), shape).mul(3).add(1);
    const gamma = tf.tensor1d([0.5, 1.5, -1]);
    const beta = tf.tensor1d([0.1, -0.2, 0.3]);
    const r = tf.tensor(values(n, 2), shape);
    const reference = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, axes);
      return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, b, g, 1e-5), r));
    })([x, gamma, beta]);
    const fast = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { y, mean, variance } = batchNormTraining(a, g, b, 1e-5);
      tf.dispose([mean, variance]);
      return tf.sum(tf.mul(y, r));
    })([x, gamma, beta]);
    for (let i = 0; i < 3; i++) expect(relativeError(fast[i].dataSync(), reference[i].dataSync())).toBeLessThan(1e-5);
    const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-5);
    const moments = tf.moments(x, axes);
    expect(relativeError(mean.dataSync(), moments.mean.dataSync())).toBeLessThan(1e-6);
    expect(relativeError(variance.dataSync(), moments.variance.dataSync())).toBeLessThan(1e-5);
    expect(relativeError(y.dataSync(), tf.batchNorm(x, moments.mean, moments.variance, beta, gamma, 1e-5).dataSync())).toBeLessThan(1e-5);
  });

  it('updates the moving statistics like tfjs-layers and serialises as its BatchNormalization', () => {
    const x = tf.tensor(values(2 * 4 * 4 * 3, 3), [2, 4, 4, 3]).mul(2).add(0.5);
    const ours = fastBatchNormalization({ momentum: 0.8 });
    const theirs = tf.layers.batchNormalization({ momentum: 0.8 });
    const yOurs = ours.apply(x, { training: true }) as tf.Tensor;
    const yTheirs = theirs.apply(x, { training: true }) as tf.Tensor;
    expect(relativeError(yOurs.dataSync(), yTheirs.dataSync())).toBeLessThan(1e-4);
    const [, , mOurs, vOurs] = ours.getWeights();
    const [, , mTheirs, vTheirs] = theirs.getWeights();
    expect(relativeError(mOurs.dataSync(), mTheirs.dataSync())).toBeLessThan(1e-6);
    expect(relativeError(vOurs.dataSync(), vTheirs.dataSync())).toBeLessThan(1e-5);
    // Inference uses the moving statistics, exactly as tfjs-layers does.
    expect(relativeError((ours.apply(x) as tf.Tensor).dataSync(), (theirs.apply(x) as tf.Tensor).dataSync())).toBeLessThan(1e-6);
    expect(ours.getClassName()).toBe('BatchNormalization');
  });
});
