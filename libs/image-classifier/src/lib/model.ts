import * as tf from '@tensorflow/tfjs';
import { TrainingError } from '../errors';
import { fastBatchNormalization } from './batch-norm';
import { Random } from './random';

/** A ResNet for small images: a 3×3 stem, then stages of basic residual blocks. */
export interface ResNetConfig {
  /**
   * `resnet`: He et al.'s CIFAR ResNet (stride-2 convolutions between stages).
   * `resnet9`: the DAWNBench "ResNet-9" layout (conv + max-pool stages, residual blocks after the
   * first and last), which trains to high accuracy in few epochs.
   * `compact`: a ResNet-9 that pools right after its stem, so no stage runs at full resolution
   * (the serving network: a third of the ResNet-9's arithmetic at the same accuracy here).
   */
  architecture?: 'resnet' | 'resnet9' | 'compact';
  /** `compact` only: channels of the full-resolution 3×3 stem convolution (default 24). */
  stemWidth?: number;
  /** Channels of each stage; every stage after the first halves the resolution (resnet9: widths[0] is the stem). */
  widths: number[];
  /** Residual blocks per stage (two 3×3 convolutions each). */
  blocks: number[];
  numClasses: number;
  inputSize: { width: number; height: number };
  /** Seeds every weight initialiser: the same seed gives the same initial network. */
  seed: number;
}

export interface ResNet {
  /** Image batch → class probabilities: the model that is saved and served. */
  model: tf.LayersModel;
  /** The same layers (shared weights) ending at the logits, for a numerically stable training loss. */
  logitsModel: tf.LayersModel;
}

/**
 * Builds a ResNet-v1 style network (He et al. 2016, the CIFAR variant): conv-BN-ReLU stem,
 * basic blocks with a 1×1 projection where the shape changes, global average pooling and a
 * linear classifier. The last batch norm of each residual branch starts at
 * γ = 0, so every block starts as the identity ("zero-init residual"), which trains faster.
 */
export function buildResNet(config: ResNetConfig): ResNet {
  const { widths, blocks, numClasses, inputSize } = config;
  if (widths.length === 0 || widths.length !== blocks.length) throw new TrainingError('model: widths and blocks must be non-empty and the same length');
  if (numClasses < 2) throw new TrainingError(`model: expected at least 2 classes, got ${numClasses}`);
  const random = new Random(config.seed);
  const conv = (x: tf.SymbolicTensor, filters: number, kernelSize: number, strides: number, name: string) =>
    tf.layers
      .conv2d({ name, filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: random.seed() }) })
      .apply(x) as tf.SymbolicTensor;
  const bn = (x: tf.SymbolicTensor, name: string, zero = false) =>
    fastBatchNormalization({ name, momentum: 0.9, epsilon: 1e-5, gammaInitializer: zero ? 'zeros' : 'ones' }).apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor, name: string) => tf.layers.reLU({ name }).apply(x) as tf.SymbolicTensor;

  const input = tf.input({ shape: [inputSize.height, inputSize.width, 3], name: 'image' });
  if (config.architecture === 'compact') {
    // A full-resolution 3×3 stem, then 2×2 max-pool: every stage runs at half resolution or less
    // (each later stage after another 2×2 max-pool): conv-BN-ReLU, then `blocks[stage]` residual
    // blocks of conv-BN-ReLU ×2. Most of a ResNet-9's arithmetic is its full-resolution stage;
    // this one costs ~9.5 M multiply-adds per image at 32-64-128 (the ResNet-9 24 M).
    let y = relu(bn(conv(input, config.stemWidth ?? 24, 3, 1, 'stem_conv'), 'stem_bn'), 'stem_relu');
    y = tf.layers.maxPooling2d({ name: 'stem_pool', poolSize: 2 }).apply(y) as tf.SymbolicTensor;
    widths.forEach((width, stage) => {
      const name = `s${stage + 1}`;
      if (stage > 0) y = tf.layers.maxPooling2d({ name: `${name}_pool`, poolSize: 2 }).apply(y) as tf.SymbolicTensor;
      y = relu(bn(conv(y, width, 3, 1, `${name}_conv`), `${name}_bn`), `${name}_relu`);
      for (let block = 0; block < blocks[stage]; block++) {
        const b = `${name}b${block + 1}`;
        let z = relu(bn(conv(y, width, 3, 1, `${b}_conv1`), `${b}_bn1`), `${b}_relu1`);
        z = relu(bn(conv(z, width, 3, 1, `${b}_conv2`), `${b}_bn2`), `${b}_relu2`);
        y = tf.layers.add({ name: `${b}_add` }).apply([y, z]) as tf.SymbolicTensor;
      }
    });
    return head(y);
  }
  let x = relu(bn(conv(input, widths[0], 3, 1, 'stem_conv'), 'stem_bn'), 'stem_relu');
  if (config.architecture === 'resnet9') {
    // widths[0] is the stem's. Each later stage: conv-BN-ReLU, 2×2 max-pool, then `blocks[stage]`
    // residual blocks of conv-BN-ReLU ×2.
    widths.forEach((width, stage) => {
      if (stage === 0) return;
      const name = `s${stage}`;
      x = relu(bn(conv(x, width, 3, 1, `${name}_conv`), `${name}_bn`), `${name}_relu`);
      x = tf.layers.maxPooling2d({ name: `${name}_pool`, poolSize: 2 }).apply(x) as tf.SymbolicTensor;
      for (let block = 0; block < blocks[stage]; block++) {
        const b = `${name}b${block + 1}`;
        let y = relu(bn(conv(x, width, 3, 1, `${b}_conv1`), `${b}_bn1`), `${b}_relu1`);
        y = relu(bn(conv(y, width, 3, 1, `${b}_conv2`), `${b}_bn2`), `${b}_relu2`);
        x = tf.layers.add({ name: `${b}_add` }).apply([x, y]) as tf.SymbolicTensor;
      }
    });
    return head(x);
  }
  widths.forEach((width, stage) => {
    for (let block = 0; block < blocks[stage]; block++) {
      const name = `s${stage + 1}b${block + 1}`;
      const stride = stage > 0 && block === 0 ? 2 : 1;
      let y = relu(bn(conv(x, width, 3, stride, `${name}_conv1`), `${name}_bn1`), `${name}_relu1`);
      y = bn(conv(y, width, 3, 1, `${name}_conv2`), `${name}_bn2`, true);
      const inChannels = x.shape[x.shape.length - 1];
      const shortcut = stride !== 1 || inChannels !== width ? bn(conv(x, width, 1, stride, `${name}_proj`), `${name}_proj_bn`) : x;
      x = relu(tf.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as tf.SymbolicTensor, `${name}_relu2`);
    }
  });
  return head(x);

  function head(features: tf.SymbolicTensor): ResNet {
    const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(features) as tf.SymbolicTensor;
    const logits = tf.layers
      .dense({ name: 'logits', units: numClasses, kernelInitializer: tf.initializers.glorotUniform({ seed: random.seed() }) })
      .apply(pooled) as tf.SymbolicTensor;
    const probabilities = tf.layers.softmax({ name: 'probabilities' }).apply(logits) as tf.SymbolicTensor;
    return {
      model: tf.model({ inputs: input, outputs: probabilities, name: 'scones_resnet' }),
      logitsModel: tf.model({ inputs: input, outputs: logits, name: 'scones_resnet_logits' }),
    };
  }
}
