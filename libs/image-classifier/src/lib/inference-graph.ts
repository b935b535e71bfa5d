import * as tf from '@tensorflow/tfjs';
import { ArtifactError } from '../errors';

/*
 * The serving form of a trained LayersModel: the same function with batch normalisation folded
 * into the convolution before it (W' = W·s, b' = (b − μ)·s + β with s = γ/√(σ² + ε)) and the
 * following ReLU fused into the same XNNPACK call, run as plain tfjs ops instead of through
 * tfjs-layers' symbolic executor. A conv–BN–ReLU triple becomes one kernel call, and a forward
 * pass of the ResNet-9 costs a third of the kernel launches. Built once when an artifact is
 * loaded; the artifact itself keeps the standard tfjs format.
 */

type Activation = 'linear' | 'relu';

type Step =
  | { kind: 'conv'; input: string; output: string; filter: tf.Tensor4D; bias: tf.Tensor1D; strides: [number, number]; pad: 'same' | 'valid'; dilations: [number, number]; activation: Activation }
  | { kind: 'affine'; input: string; output: string; scale: tf.Tensor1D; shift: tf.Tensor1D }
  | { kind: 'relu'; input: string; output: string }
  | { kind: 'maxPool' | 'avgPool'; input: string; output: string; poolSize: [number, number]; strides: [number, number]; pad: 'same' | 'valid' }
  | { kind: 'add'; inputs: string[]; output: string }
  | { kind: 'globalAvgPool' | 'flatten'; input: string; output: string }
  | { kind: 'dense'; input: string; output: string; kernel: tf.Tensor2D; bias: tf.Tensor1D; activation: Activation }
  | { kind: 'softmax'; input: string; output: string };

export interface InferenceOutputs {
  /** [batch, classes] class probabilities (the model's output). */
  probabilities: tf.Tensor2D;
  /** [batch, features]: the input of the final dense layer. */
  features: tf.Tensor2D;
}

/** A model compiled for serving (see the file comment). Owns its weight tensors. */
export interface InferenceGraph {
  readonly inputShape: [number, number, number];
  readonly classes: number;
  /** Length of an {@link InferenceGraph.embed} vector: two values per channel of every stage. */
  readonly embeddingSize: number;
  /** Runs the network on an NHWC batch; call inside `tf.tidy` or dispose the outputs. */
  run(x: tf.Tensor4D): InferenceOutputs;
  /**
   * [batch, embeddingSize]: the model's view of each image at every resolution it works at. A
   * stage is a feature map that enters a pooling layer (the last map at one resolution, and the
   * map the global pooling averages); for each, the spatial mean and standard deviation of every
   * channel, the stage's block scaled to unit length so that each resolution weighs the same.
   * Early stages describe colour and texture, the last one the object; the final layer's input
   * alone is trained to separate the classes and maps unfamiliar images onto familiar ones
   * (measured in libs/monitor-analytics/README.md). Call inside `tf.tidy`.
   */
  embed(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

const pair = (v: number | number[] | undefined, fallback: number): [number, number] => {
  if (v === undefined || v === null) return [fallback, fallback];
  return Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v];
};

/** Where a layer's (single) input comes from. */
function inputsOf(layer: tf.layers.Layer): string[] {
  const nodes = layer.inboundNodes;
  if (nodes.length !== 1) throw new ArtifactError(`layer ${layer.name} is used ${nodes.length} times; the serving graph supports one use`);
  return nodes[0].inboundLayers.map((l) => l.name);
}

function activationOf(config: tf.serialization.ConfigDict, layer: tf.layers.Layer): Activation {
  const activation = (config.activation as string | undefined) ?? 'linear';
  if (activation !== 'linear' && activation !== 'relu') throw new ArtifactError(`layer ${layer.name}: activation ${activation} is not supported by the serving graph`);
  return activation;
}

/**
 * Compiles a trained LayersModel (the layer kinds of {@link buildResNet}: Conv2D, BatchNormalization,
 * ReLU, MaxPooling2D, AveragePooling2D, Add, GlobalAveragePooling2D, Flatten, Dense, Softmax) into
 * an {@link InferenceGraph}. Throws an {@link ArtifactError} naming the layer it cannot compile.
 * The model is not changed and can be disposed afterwards.
 */
export function compileInferenceGraph(model: tf.LayersModel): InferenceGraph {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new ArtifactError(`model ${model.name}: the serving graph needs one input and one output`);
  const layers = model.layers;
  const consumers = new Map<string, number>();
  for (const layer of layers) for (const name of layer.inboundNodes.flatMap((n) => n.inboundLayers.map((l) => l.name))) consumers.set(name, (consumers.get(name) ?? 0) + 1);
  const single = (name: string) => consumers.get(name) === 1;
  const steps: Step[] = [];
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  // Layer name → the name of the value that stands for its output (fused layers alias the step's).
  const alias = new Map<string, string>();
  const source = (name: string) => alias.get(name) ?? name;
  const byName = new Map(layers.map((l) => [l.name, l]));
  let features: string | undefined;
  let inputName = '';
  try {
    for (const layer of layers) {
      const kind = layer.getClassName();
      const config = layer.getConfig();
      if (kind === 'InputLayer') {
        inputName = layer.name;
        continue;
      }
      const raw = inputsOf(layer);
      const inputs = raw.map(source);
      const input = inputs[0];
      const last = steps[steps.length - 1];
      // The step computing `input`, when this layer is the only consumer of it (so it can be fused).
      const fusable = last && raw.length === 1 && last.output === input && single(raw[0]) ? last : undefined;
      switch (kind) {
        case 'Conv2D': {
          if (config.dataFormat && config.dataFormat !== 'channelsLast') throw new ArtifactError(`layer ${layer.name}: only channels-last convolutions are supported`);
          const [kernel, bias] = layer.getWeights();
          const filters = kernel.shape[3] as number;
          steps.push({
            kind: 'conv',
            input,
            output: layer.name,
            filter: keep(tf.clone(kernel)) as tf.Tensor4D,
            bias: keep(bias ? tf.clone(bias) : tf.zeros([filters])) as tf.Tensor1D,
            strides: pair(config.strides as number | number[], 1),
            pad: config.padding === 'valid' ? 'valid' : 'same',
            dilations: pair(config.dilationRate as number | number[], 1),
            activation: activationOf(config, layer),
          });
          break;
        }
        case 'BatchNormalization': {
          const axis = config.axis as number;
          if (axis !== -1 && axis !== 3) throw new ArtifactError(`layer ${layer.name}: only channels-last batch norm is supported`);
          const weights = layer.getWeights();
          let i = 0;
          const gamma = config.scale !== false ? weights[i++].dataSync() : undefined;
          const beta = config.center !== false ? weights[i++].dataSync() : undefined;
          const mean = weights[i++].dataSync();
          const variance = weights[i++].dataSync();
          const epsilon = config.epsilon as number;
          const scale = new Float32Array(mean.length);
          const shift = new Float32Array(mean.length);
          for (let c = 0; c < mean.length; c++) {
            scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + epsilon);
            shift[c] = (beta ? beta[c] : 0) - mean[c] * scale[c];
          }
          if (fusable?.kind === 'conv' && fusable.activation === 'linear') {
            // conv then BN: scale the filter's output channels, fold the shift into the bias.
            const [folded, foldedBias] = tf.tidy(() => [tf.mul(fusable.filter, scale), tf.add(tf.mul(fusable.bias, scale), shift)]);
            tf.dispose([fusable.filter, fusable.bias]);
            owned.splice(owned.indexOf(fusable.filter), 1);
            owned.splice(owned.indexOf(fusable.bias), 1);
            fusable.filter = keep(folded) as tf.Tensor4D;
            fusable.bias = keep(foldedBias) as tf.Tensor1D;
            alias.set(layer.name, fusable.output);
          } else {
            steps.push({ kind: 'affine', input, output: layer.name, scale: keep(tf.tensor1d(scale)), shift: keep(tf.tensor1d(shift)) });
          }
          break;
        }
        case 'ReLU':
        case 'Activation': {
          if (kind === 'ReLU' && config.maxValue != null) throw new ArtifactError(`layer ${layer.name}: ReLU with maxValue is not supported`);
          if (kind === 'Activation' && activationOf(config, layer) === 'linear') {
            alias.set(layer.name, input);
            break;
          }
          if ((fusable?.kind === 'conv' || fusable?.kind === 'dense') && fusable.activation === 'linear') {
            fusable.activation = 'relu';
            alias.set(layer.name, fusable.output);
          } else steps.push({ kind: 'relu', input, output: layer.name });
          break;
        }
        case 'MaxPooling2D':
        case 'AveragePooling2D': {
          const poolSize = pair(config.poolSize as number | number[], 2);
          steps.push({ kind: kind === 'MaxPooling2D' ? 'maxPool' : 'avgPool', input, output: layer.name, poolSize, strides: pair((config.strides as number | number[] | undefined) ?? poolSize, 1), pad: config.padding === 'same' ? 'same' : 'valid' });
          break;
        }
        case 'Add':
          steps.push({ kind: 'add', inputs, output: layer.name });
          break;
        case 'GlobalAveragePooling2D':
          steps.push({ kind: 'globalAvgPool', input, output: layer.name });
          break;
        case 'Flatten':
          steps.push({ kind: 'flatten', input, output: layer.name });
          break;
        case 'Dropout':
          alias.set(layer.name, input);
          break;
        case 'Dense': {
          const [kernel, bias] = layer.getWeights();
          features = input;
          steps.push({
            kind: 'dense',
            input,
            output: layer.name,
            kernel: keep(tf.clone(kernel)) as tf.Tensor2D,
            bias: keep(bias ? tf.clone(bias) : tf.zeros([kernel.shape[1] as number])) as tf.Tensor1D,
            activation: activationOf(config, layer),
          });
          break;
        }
        case 'Softmax':
          steps.push({ kind: 'softmax', input, output: layer.name });
          break;
        default:
          throw new ArtifactError(`layer ${layer.name}: ${kind} is not supported by the serving graph`);
      }
    }
  } catch (error) {
    tf.dispose(owned);
    throw error;
  }
  const output = source(model.outputLayers[0].name);
  const last = steps[steps.length - 1];
  if (!features || !last || last.output !== output || last.kind !== 'softmax' || !byName.has(model.outputLayers[0].name)) {
    tf.dispose(owned);
    throw new ArtifactError(`model ${model.name}: the serving graph needs a final dense layer followed by softmax`);
  }
  const featureName = features;
  const inputShape = model.inputs[0].shape.slice(1) as [number, number, number];
  // Channels of every value, to size the stage descriptors; the stages are the pooled maps.
  const channels = new Map<string, number>([[inputName, inputShape[2]]]);
  for (const s of steps) channels.set(s.output, s.kind === 'conv' ? (s.filter.shape[3] as number) : s.kind === 'add' ? (channels.get(s.inputs[0]) ?? 0) : (channels.get(s.input) ?? 0));
  const stages = steps.flatMap((s) => (s.kind === 'maxPool' || s.kind === 'avgPool' || s.kind === 'globalAvgPool' ? [s.input] : []));
  const embeddingSize = stages.reduce((sum, name) => sum + 2 * (channels.get(name) ?? 0), 0);
  let disposed = false;
  /** Every value of a forward pass, by name. */
  const forward = (x: tf.Tensor4D) => {
    if (disposed) throw new ArtifactError(`the serving graph of ${model.name} was disposed`);
    const values = new Map<string, tf.Tensor>([[inputName, x]]);
    const get = (name: string) => {
      const v = values.get(name);
      if (!v) throw new ArtifactError(`serving graph: ${name} is used before it is computed`);
      return v;
    };
    for (const s of steps) {
      let y: tf.Tensor;
      switch (s.kind) {
        case 'conv':
          y = tf.fused.conv2d({ x: get(s.input) as tf.Tensor4D, filter: s.filter, strides: s.strides, pad: s.pad, dilations: s.dilations, bias: s.bias, activation: s.activation });
          break;
        case 'affine':
          y = tf.add(tf.mul(get(s.input), s.scale), s.shift);
          break;
        case 'relu':
          y = tf.relu(get(s.input));
          break;
        case 'maxPool':
          y = tf.maxPool(get(s.input) as tf.Tensor4D, s.poolSize, s.strides, s.pad);
          break;
        case 'avgPool':
          y = tf.avgPool(get(s.input) as tf.Tensor4D, s.poolSize, s.strides, s.pad);
          break;
        case 'add':
          y = s.inputs.map(get).reduce((a, b) => tf.add(a, b));
          break;
        case 'globalAvgPool': {
          const v = get(s.input) as tf.Tensor4D;
          const [n, h, w, c] = v.shape;
          // XNNPACK's average pool over the whole map: no transpose, unlike Mean over axes 1, 2.
          y = tf.reshape(tf.avgPool(v, [h, w], 1, 'valid'), [n, c]);
          break;
        }
        case 'flatten': {
          const v = get(s.input);
          y = tf.reshape(v, [v.shape[0], v.size / v.shape[0]]);
          break;
        }
        case 'dense':
          y = tf.fused.matMul({ a: get(s.input) as tf.Tensor2D, b: s.kernel, bias: s.bias, activation: s.activation });
          break;
        case 'softmax':
          y = tf.softmax(get(s.input));
          break;
      }
      values.set(s.output, y);
    }
    return get;
  };
  return {
    inputShape,
    classes: model.outputs[0].shape[model.outputs[0].shape.length - 1] as number,
    embeddingSize,
    run(x) {
      const get = forward(x);
      return { probabilities: get(output) as tf.Tensor2D, features: get(featureName) as tf.Tensor2D };
    },
    embed(x) {
      const get = forward(x);
      if (stages.length === 0) throw new ArtifactError(`model ${model.name}: no pooling layer, so no stage to describe`);
      const blocks = stages.map((name) => {
        const { mean, variance } = tf.moments(get(name), [1, 2]);
        const block = tf.concat([mean, tf.sqrt(variance)], 1);
        return tf.div(block, tf.maximum(tf.norm(block, 'euclidean', 1, true), 1e-12));
      });
      return tf.concat(blocks, 1) as tf.Tensor2D;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose(owned);
    },
  };
}
