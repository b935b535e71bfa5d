import * as tf from '@tensorflow/tfjs';

/*
 * Batch normalisation whose *training* step is fast on the wasm backend. tfjs-layers' own
 * BatchNormalization trains through `tf.moments` + the FusedBatchNorm gradient, which reduces
 * over the batch with Sum/Mean kernels that transpose the whole activation first and broadcasts
 * with Tile: on wasm that made batch norm cost 3x the convolutions. Here the per-channel sums are
 * XNNPACK global average pools (5x faster than a GEMV with a row of ones, which repacks the
 * activation as a weight matrix on every call), and the gradient is the closed form
 *   dx = γ·rstd · (dy − mean(dy) − x̂·mean(dy·x̂)).
 * Inference is the library's own code path, and the layer serialises as a standard
 * `BatchNormalization`, so saved models load with plain `tf.loadLayersModel`.
 */

type BatchNormLayer = ReturnType<typeof tf.layers.batchNormalization>;
type BatchNormArgs = NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>;

/** The fields of tfjs-layers' BatchNormalization this layer uses (private in its typings). */
interface BatchNormState {
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
  momentum: number;
  epsilon: number;
  axis: number;
}

/** Per-channel mean over every axis but the last, as a [1, C] tensor. */
function channelMean(x: tf.Tensor): tf.Tensor2D {
  const channels = x.shape[x.shape.length - 1];
  if (x.rank === 4) {
    const [batch, height, width] = x.shape;
    const pooled = tf.avgPool(x as tf.Tensor4D, [height, width], 1, 'valid');
    return tf.mean(tf.reshape(pooled, [batch, channels]), 0, true);
  }
  const rows = x.size / channels;
  return tf.div(tf.matMul(tf.ones([1, rows]), tf.reshape(x, [rows, channels])), rows);
}

/** Training-mode batch norm over every axis but the last; returns y and the batch statistics. */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const channels = x.shape[x.shape.length - 1];
  const rows = x.size / channels;
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  const normalise = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, g, b] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as tf.GradSaveFunc;
    const mu = channelMean(input);
    const centred = tf.sub(input, tf.reshape(mu, [channels]));
    const v = channelMean(tf.square(centred));
    const rstd = tf.reshape(tf.rsqrt(tf.add(v, epsilon)), [channels]);
    const xhat = tf.mul(centred, rstd);
    mean = tf.keep(tf.reshape(mu, [channels])) as tf.Tensor1D;
    variance = tf.keep(tf.reshape(v, [channels])) as tf.Tensor1D;
    save([xhat, rstd, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedXhat, savedRstd, savedGamma] = saved;
        const dyt = dy as tf.Tensor;
        const meanDy = tf.reshape(channelMean(dyt), [channels]);
        const meanDyXhat = tf.reshape(channelMean(tf.mul(dyt, savedXhat)), [channels]);
        const k = tf.mul(savedGamma, savedRstd);
        const dx = tf.mul(tf.sub(tf.sub(dyt, meanDy), tf.mul(savedXhat, meanDyXhat)), k);
        return [dx, tf.mul(meanDyXhat, rows), tf.mul(meanDy, rows)];
      },
    };
  });
  const y = normalise(x, gamma, beta);
  if (!mean || !variance) throw new Error('batch norm: statistics were not computed');
  return { y, mean, variance };
}

let FastBatchNormalization: (new (args?: BatchNormArgs) => BatchNormLayer) | undefined;

function fastBatchNormalizationClass(): new (args?: BatchNormArgs) => BatchNormLayer {
  if (FastBatchNormalization) return FastBatchNormalization;
  // tfjs does not export the class itself, only its factory.
  const Base = tf.layers.batchNormalization({ name: 'scones_probe' }).constructor as new (args?: BatchNormArgs) => BatchNormLayer;
  FastBatchNormalization = class extends Base {
    // Serialised (and loaded back) as tfjs' own class: the weights and inference are identical.
    static className = 'BatchNormalization';

    override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor | tf.Tensor[] {
      if (!kwargs.training) return super.call(inputs, kwargs);
      const state = this as unknown as BatchNormState;
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (state.axis !== -1 && state.axis !== x.rank - 1) return super.call(inputs, kwargs);
      return tf.tidy(() => {
        const { y, mean, variance } = batchNormTraining(x, state.gamma.read(), state.beta.read(), state.epsilon);
        // Same update rule as tfjs-layers: moving = moving − (moving − batch)·(1 − momentum).
        const decay = 1 - state.momentum;
        for (const [moving, batch] of [
          [state.movingMean, mean],
          [state.movingVariance, variance],
        ] as const) {
          tf.tidy(() => {
            const current = moving.read();
            moving.write(tf.sub(current, tf.mul(tf.sub(current, batch), decay)));
          });
        }
        tf.dispose([mean, variance]);
        return y;
      });
    }
  };
  return FastBatchNormalization;
}

/** A BatchNormalization layer (channels last) with the fast training path above. */
export function fastBatchNormalization(args: BatchNormArgs = {}): BatchNormLayer {
  return new (fastBatchNormalizationClass())(args);
}
