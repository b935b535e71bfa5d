import * as tf from '@tensorflow/tfjs';

/*
 * Batch normalisation whose *training* step is fast on the wasm backend. tfjs-layers' own
 * BatchNormalization trains through `tf.moments` + the FusedBatchNorm gradient, which reduces
 * over the batch with Sum/Mean kernels that transpose the whole activation first and broadcasts
 * with Tile: on wasm that made batch norm cost 3x the convolutions. Here the per-channel sums are
 * matrix products with a row of ones (one XNNPACK GEMV each) and the gradient is the closed form
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

/** Training-mode batch norm over every axis but the last; returns y and the batch statistics. */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const shape = x.shape;
  const channels = shape[shape.length - 1];
  const rows = x.size / channels;
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  const normalise = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, g, b] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as tf.GradSaveFunc;
    const ones = tf.ones([1, rows]);
    const x2 = tf.reshape(input, [rows, channels]);
    const mu = tf.div(tf.matMul(ones, x2), rows);
    const centred = tf.sub(x2, mu);
    const v = tf.div(tf.matMul(ones, tf.square(centred)), rows);
    const rstd = tf.rsqrt(tf.add(v, epsilon));
    const xhat = tf.mul(centred, rstd);
    mean = tf.keep(tf.reshape(mu, [channels])) as tf.Tensor1D;
    variance = tf.keep(tf.reshape(v, [channels])) as tf.Tensor1D;
    save([xhat, rstd, g]);
    return {
      value: tf.reshape(tf.add(tf.mul(xhat, g), b), shape),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedXhat, savedRstd, savedGamma] = saved;
        const onesRow = tf.ones([1, rows]);
        const dy2 = tf.reshape(dy as tf.Tensor, [rows, channels]);
        const dBeta = tf.matMul(onesRow, dy2);
        const dGamma = tf.matMul(onesRow, tf.mul(dy2, savedXhat));
        const k = tf.mul(savedGamma, savedRstd);
        const dx = tf.mul(tf.sub(tf.sub(dy2, tf.div(dBeta, rows)), tf.mul(savedXhat, tf.div(dGamma, rows))), k);
        return [tf.reshape(dx, shape), tf.reshape(dGamma, [channels]), tf.reshape(dBeta, [channels])];
      },
    };
  });
  const y = normalise(x, gamma, beta);
  return { y, mean: mean!, variance: variance! };
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
