import * as tf from '@tensorflow/tfjs';
import type { ModelManifest } from '@scones/payload-schemas';
import { TrainingError } from '../errors';
import { augmentImage } from './augment';
import { computeBaseline } from './baseline';
import { evaluate, type Evaluation } from './evaluation';
import type { RgbImage } from './image-decode';
import { predictProbabilities } from './inference';
import { buildResNet } from './model';
import { fitPreprocessing, preprocess } from './preprocess';
import { Random, stratifiedSplit } from './random';
import { DEFAULT_TARGET_PRECISION, recommendThreshold } from './threshold';

/** One training or test image with its class index. */
export interface LabeledImage {
  /** Where it came from (file name or key), for error messages. */
  name: string;
  label: number;
  image: RgbImage;
}

/** Everything that shapes a training run besides the data and the seed. */
export interface TrainingConfig {
  epochs: number;
  batchSize: number;
  /** Peak of the one-cycle schedule (linear warm-up from a tenth of it, then cosine to 0). */
  learningRate: number;
  /** Share of the steps spent warming up. */
  warmupFraction: number;
  /** SGD with Nesterov momentum. */
  momentum: number;
  /** L2 weight decay on convolution and dense kernels (not on batch-norm parameters). */
  weightDecay: number;
  labelSmoothing: number;
  /** Share of each class of the training channel held out for validation (model selection). */
  validationFraction: number;
  architecture: 'resnet' | 'resnet9';
  widths: number[];
  blocks: number[];
  /** Side of the square model input; images of another size are resized by {@link preprocess}. */
  imageSize: number;
  /** Reflection padding of the random crop (0: no crop). */
  augmentPadding: number;
  augmentFlip: boolean;
  /** Use at most this many training images of each class (0: all); for smoke runs. */
  maxImagesPerClass: number;
}

/** Named configurations: `full` is the benchmark configuration; `quick` is for smoke runs and CI. */
export const TRAINING_PRESETS: Readonly<Record<'full' | 'quick', Readonly<TrainingConfig>>> = {
  full: {
    epochs: 30,
    batchSize: 64,
    learningRate: 0.1,
    warmupFraction: 0.15,
    momentum: 0.9,
    weightDecay: 5e-4,
    labelSmoothing: 0.1,
    validationFraction: 0.1,
    architecture: 'resnet',
    widths: [16, 32, 64],
    blocks: [2, 2, 2],
    imageSize: 32,
    augmentPadding: 4,
    augmentFlip: true,
    maxImagesPerClass: 0,
  },
  quick: {
    epochs: 2,
    batchSize: 16,
    learningRate: 0.05,
    warmupFraction: 0.2,
    momentum: 0.9,
    weightDecay: 5e-4,
    labelSmoothing: 0.1,
    validationFraction: 0.2,
    architecture: 'resnet',
    widths: [8, 16],
    blocks: [1, 1],
    imageSize: 32,
    augmentPadding: 4,
    augmentFlip: true,
    maxImagesPerClass: 64,
  },
};

export interface EpochMetrics {
  /** 0-based, like SageMaker's `Epoch[0]`. */
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  validationLoss: number;
  validationAccuracy: number;
  /** Learning rate at the end of the epoch. */
  learningRate: number;
  seconds: number;
}

export interface StepProgress {
  epoch: number;
  /** Steps done in this epoch / per epoch. */
  step: number;
  stepsPerEpoch: number;
  /** Steps done in the whole run / in total. */
  done: number;
  total: number;
}

export interface TrainOptions {
  jobName: string;
  classNames: string[];
  /** The training channel; validation is carved out of it. */
  train: readonly LabeledImage[];
  /** The test channel: evaluated once, after training, for the report (never for selection). */
  test?: readonly LabeledImage[];
  seed?: number;
  /** Preset to start from (default `full`), then individual overrides. */
  preset?: keyof typeof TRAINING_PRESETS;
  config?: Partial<TrainingConfig>;
  targetPrecision?: number;
  signal?: AbortSignal;
  onStep?(progress: StepProgress): void;
  onEpoch?(metrics: EpochMetrics): void;
}

export interface TrainedClassifier {
  /** Images → class probabilities; owned by the caller (dispose it). */
  model: tf.LayersModel;
  manifest: ModelManifest;
  validation: Evaluation;
  test?: Evaluation;
  /** Validation accuracy with and without averaging over the mirrored image (chosen on validation). */
  flipAverage: { chosen: boolean; accuracyWith: number; accuracyWithout: number };
}

export const DEFAULT_SEED = 42;

/** The learning rate after `progress` (0..1) of the run: linear warm-up, then cosine decay to 0. */
export function learningRateAt(progress: number, peak: number, warmupFraction: number): number {
  if (warmupFraction > 0 && progress < warmupFraction) return peak * (0.1 + (0.9 * progress) / warmupFraction);
  const t = warmupFraction >= 1 ? 1 : (progress - warmupFraction) / (1 - warmupFraction);
  return peak * 0.5 * (1 + Math.cos(Math.PI * Math.min(Math.max(t, 0), 1)));
}

function checkConfig(c: TrainingConfig): void {
  const problems: string[] = [];
  if (!Number.isInteger(c.epochs) || c.epochs < 1) problems.push(`epochs must be an integer >= 1, got ${c.epochs}`);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 2) problems.push(`batchSize must be an integer >= 2, got ${c.batchSize}`);
  if (!(c.learningRate > 0)) problems.push(`learningRate must be > 0, got ${c.learningRate}`);
  if (!(c.validationFraction > 0 && c.validationFraction < 1)) problems.push(`validationFraction must be in (0, 1), got ${c.validationFraction}`);
  if (!(c.labelSmoothing >= 0 && c.labelSmoothing < 1)) problems.push(`labelSmoothing must be in [0, 1), got ${c.labelSmoothing}`);
  if (problems.length) throw new TrainingError(`training configuration: ${problems.join('; ')}`);
}

function checkData(options: TrainOptions): void {
  const k = options.classNames.length;
  if (k < 2) throw new TrainingError(`expected at least 2 class names, got ${k}`);
  for (const [channel, images] of [
    ['train', options.train],
    ['test', options.test ?? []],
  ] as const) {
    const bad = images.find((x) => !Number.isInteger(x.label) || x.label < 0 || x.label >= k);
    if (bad) throw new TrainingError(`${channel} image ${bad.name}: label ${bad.label} is out of range for ${k} classes (${options.classNames.join(', ')})`);
  }
  const counts = new Array<number>(k).fill(0);
  for (const x of options.train) counts[x.label]++;
  const missing = counts.map((n, c) => (n < 2 ? `${options.classNames[c]} (${n})` : '')).filter(Boolean);
  if (missing.length) throw new TrainingError(`every class needs at least 2 training images (one for validation); too few: ${missing.join(', ')}`);
}

/** A random subset of at most `perClass` images of each class, in the original order. */
function subsetPerClass(images: readonly LabeledImage[], perClass: number, random: Random): LabeledImage[] {
  const order = random.shuffle(images.map((_, i) => i));
  const taken = new Map<number, number>();
  const keep = new Set<number>();
  for (const i of order) {
    const n = taken.get(images[i].label) ?? 0;
    if (n < perClass) {
      keep.add(i);
      taken.set(images[i].label, n + 1);
    }
  }
  return images.filter((_, i) => keep.has(i));
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('training aborted', 'AbortError');
}

const round = (v: number, digits = 6) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Trains a ResNet on the training channel: stratified validation split, augmentation, one-cycle
 * SGD, label smoothing; keeps the epoch with the best validation accuracy (ties: lower validation
 * loss). Then, from validation predictions only, recommends a confidence threshold and computes
 * the monitoring baseline; finally evaluates the test channel once. Returns the model and its
 * manifest, ready for {@link saveArtifact}. The wasm backend must be initialised
 * ({@link initBackend}).
 */
export async function trainClassifier(options: TrainOptions): Promise<TrainedClassifier> {
  const config: TrainingConfig = { ...TRAINING_PRESETS[options.preset ?? 'full'], ...options.config };
  checkConfig(config);
  checkData(options);
  const seed = options.seed ?? DEFAULT_SEED;
  const numClasses = options.classNames.length;
  const started = performance.now();
  const random = new Random(seed);
  const pool = config.maxImagesPerClass > 0 ? subsetPerClass(options.train, config.maxImagesPerClass, random) : options.train;
  const split = stratifiedSplit(
    pool.map((x) => x.label),
    config.validationFraction,
    random,
  );
  const train = split.train.map((i) => pool[i]);
  const validation = split.validation.map((i) => pool[i]);
  const batchSize = Math.min(config.batchSize, train.length);
  const stepsPerEpoch = Math.floor(train.length / batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const preprocessing = fitPreprocessing(
    train.map((x) => x.image),
    config.imageSize,
    config.imageSize,
  );
  const { model, logitsModel } = buildResNet({ architecture: config.architecture, widths: config.widths, blocks: config.blocks, numClasses, inputSize: { width: config.imageSize, height: config.imageSize }, seed: random.seed() });
  const optimizer = tf.train.momentum(config.learningRate, config.momentum, true);
  const variables = logitsModel.trainableWeights.map((w) => w.read() as tf.Variable);
  const decayed = new Set(logitsModel.trainableWeights.filter((w) => /kernel$/.test(w.originalName)).map((w) => (w.read() as tf.Variable).name));
  const augmentRandom = new Random(random.seed());
  const validationImages = validation.map((x) => x.image);
  const validationLabels = validation.map((x) => x.label);
  let best: { epoch: number; accuracy: number; loss: number; weights: tf.Tensor[] } | undefined;
  const history: EpochMetrics[] = [];
  let done = 0;
  let succeeded = false;
  try {
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      const epochStart = performance.now();
      const order = random.shuffle(train.map((_, i) => i));
      let lossSum = 0;
      let correctSum = 0;
      let seen = 0;
      let lr = config.learningRate;
      for (let step = 0; step < stepsPerEpoch; step++) {
        throwIfAborted(options.signal);
        lr = learningRateAt(done / totalSteps, config.learningRate, config.warmupFraction);
        optimizer.setLearningRate(lr);
        const batch = order.slice(step * batchSize, (step + 1) * batchSize).map((i) => train[i]);
        const images = batch.map((x) => augmentImage(x.image, augmentRandom, { padding: config.augmentPadding, flip: config.augmentFlip }));
        const labels = batch.map((x) => x.label);
        const [loss, correct] = tf.tidy(() => {
          const x = preprocess(images, preprocessing);
          const labelTensor = tf.tensor1d(labels, 'int32');
          const oneHot = tf.oneHot(labelTensor, numClasses);
          let hits: tf.Scalar | undefined;
          const { value, grads } = tf.variableGrads(() => {
            const logits = logitsModel.apply(x, { training: true }) as tf.Tensor2D;
            hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labelTensor), 'float32'))) as tf.Scalar;
            return tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, config.labelSmoothing) as tf.Scalar;
          }, variables);
          for (const v of variables) if (decayed.has(v.name) && config.weightDecay > 0) grads[v.name] = tf.add(grads[v.name], tf.mul(v, config.weightDecay));
          optimizer.applyGradients(grads as tf.NamedTensorMap as Record<string, tf.Variable>);
          return [value as tf.Scalar, hits!];
        });
        lossSum += loss.dataSync()[0] * batch.length;
        correctSum += correct.dataSync()[0];
        seen += batch.length;
        tf.dispose([loss, correct]);
        done++;
        options.onStep?.({ epoch, step: step + 1, stepsPerEpoch, done, total: totalSteps });
        // Lets Ctrl-C (and progress output) through: the wasm kernels run synchronously.
        await yieldToEventLoop();
      }
      throwIfAborted(options.signal);
      const validationEval = evaluate(predictProbabilities(model, validationImages, preprocessing), validationLabels, numClasses);
      const metrics: EpochMetrics = {
        epoch,
        trainLoss: lossSum / seen,
        trainAccuracy: correctSum / seen,
        validationLoss: validationEval.loss,
        validationAccuracy: validationEval.accuracy,
        learningRate: lr,
        seconds: (performance.now() - epochStart) / 1000,
      };
      history.push(metrics);
      if (!best || metrics.validationAccuracy > best.accuracy || (metrics.validationAccuracy === best.accuracy && metrics.validationLoss < best.loss)) {
        if (best) tf.dispose(best.weights);
        best = { epoch, accuracy: metrics.validationAccuracy, loss: metrics.validationLoss, weights: model.getWeights().map((w) => tf.clone(w)) };
      }
      options.onEpoch?.(metrics);
    }
    model.setWeights(best!.weights);
    // Everything below is decided on validation data; the test channel is only reported.
    const plain = predictProbabilities(model, validationImages, preprocessing);
    const mirrored = predictProbabilities(model, validationImages, preprocessing, { flipAverage: true });
    const plainEval = evaluate(plain, validationLabels, numClasses);
    const mirroredEval = evaluate(mirrored, validationLabels, numClasses);
    const chooseFlip = mirroredEval.accuracy > plainEval.accuracy || (mirroredEval.accuracy === plainEval.accuracy && mirroredEval.loss < plainEval.loss);
    const validationProbabilities = plain;
    const validationEval = plainEval;
    const confidences = validationProbabilities.map((p) => Math.max(...p));
    const correct = validationProbabilities.map((p, i) => p.indexOf(Math.max(...p)) === validationLabels[i]);
    const threshold = recommendThreshold(confidences, correct, options.targetPrecision ?? DEFAULT_TARGET_PRECISION);
    const baseline = computeBaseline(validationImages, validationProbabilities, numClasses);
    const testEval = options.test?.length
      ? evaluate(
          predictProbabilities(
            model,
            options.test.map((x) => x.image),
            preprocessing,
          ),
          options.test.map((x) => x.label),
          numClasses,
        )
      : undefined;
    const manifest: ModelManifest = {
      format: 'scones-image-classifier',
      formatVersion: 1,
      jobName: options.jobName,
      createdAt: new Date().toISOString(),
      classNames: [...options.classNames],
      preprocessing,
      modelPath: 'model.json',
      training: {
        seed,
        epochs: config.epochs,
        bestEpoch: best!.epoch,
        trainCount: train.length,
        validationCount: validation.length,
        seconds: round((performance.now() - started) / 1000, 3),
        history: history.map((h) => ({ ...h, trainLoss: round(h.trainLoss), trainAccuracy: round(h.trainAccuracy), validationLoss: round(h.validationLoss), validationAccuracy: round(h.validationAccuracy), learningRate: round(h.learningRate, 8), seconds: round(h.seconds, 3) })),
        hyperparameters: {
          architecture: `${config.architecture}-${config.widths.join('-')}x${config.blocks.join('-')}`,
          epochs: config.epochs,
          batchSize,
          learningRate: config.learningRate,
          schedule: `one-cycle (warm-up ${config.warmupFraction}, cosine)`,
          optimizer: 'sgd-nesterov',
          momentum: config.momentum,
          weightDecay: config.weightDecay,
          labelSmoothing: config.labelSmoothing,
          validationFraction: config.validationFraction,
          augmentation: `reflect-pad ${config.augmentPadding} random crop${config.augmentFlip ? ', horizontal flip' : ''}`,
          imageSize: config.imageSize,
          ...(config.maxImagesPerClass > 0 ? { maxImagesPerClass: config.maxImagesPerClass } : {}),
          backend: tf.getBackend(),
        },
      },
      ...(testEval
        ? { test: { count: testEval.count, accuracy: round(testEval.accuracy), confusionMatrix: testEval.confusionMatrix, precision: testEval.precision.map((v) => round(v)), recall: testEval.recall.map((v) => round(v)) } }
        : {}),
      threshold,
      baseline,
    };
    succeeded = true;
    return {
      model,
      manifest,
      validation: validationEval,
      ...(testEval ? { test: testEval } : {}),
      flipAverage: { chosen: chooseFlip, accuracyWith: mirroredEval.accuracy, accuracyWithout: plainEval.accuracy },
    };
  } finally {
    if (best) tf.dispose(best.weights);
    optimizer.dispose();
    // MomentumOptimizer.dispose() forgets the learning-rate scalar its SGD base class keeps.
    (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
    if (!succeeded) model.dispose();
  }
}
