import * as tf from '@tensorflow/tfjs';
import type { ModelManifest } from '@scones/payload-schemas';
import { TrainingError } from '../errors';
import { augmentImage } from './augment';
import { computeBaseline } from './baseline';
import { argMax, evaluate, type Evaluation } from './evaluation';
import type { RgbImage } from './image-decode';
import { embedImages, predictProbabilities } from './inference';
import { buildResNet } from './model';
import { fitPreprocessing, preprocess, type Preprocessing } from './preprocess';
import { Random, stratifiedSplit } from './random';
import { DEFAULT_TARGET_PRECISION, recommendThreshold } from './threshold';
import { checkConfig, learningRateAt, TRAINING_PRESETS, type TrainingConfig } from './training-config';

/** One training or test image with its class index. */
export interface LabeledImage {
  /** Where it came from (file name or key), for error messages. */
  name: string;
  label: number;
  image: RgbImage;
}

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
  /** The served model's class probabilities of each validation image, with its label (what the threshold was chosen on). */
  validationPredictions: { probabilities: number[][]; labels: number[] };
}

export const DEFAULT_SEED = 42;

/**
 * The `training.hyperparameters` key recording whether predictions average the image and its
 * mirror image (chosen on validation); the served classifier does what training chose.
 */
export const TEST_TIME_FLIP = 'testTimeFlip';

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

/** The part of a run every training step needs. */
interface StepContext {
  config: TrainingConfig;
  numClasses: number;
  preprocessing: Preprocessing;
  logitsModel: tf.LayersModel;
  optimizer: tf.MomentumOptimizer;
  variables: tf.Variable[];
  /** Names of the variables under weight decay (convolution and dense kernels). */
  decayed: Set<string>;
}

/** One SGD step on a batch; returns the batch's mean loss and number of correct predictions. */
function trainStep(ctx: StepContext, images: RgbImage[], labels: number[]): { loss: number; correct: number } {
  const [loss, correct] = tf.tidy(() => {
    const x = preprocess(images, ctx.preprocessing);
    const labelTensor = tf.tensor1d(labels, 'int32');
    const oneHot = tf.oneHot(labelTensor, ctx.numClasses);
    let hits: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const logits = ctx.logitsModel.apply(x, { training: true }) as tf.Tensor2D;
      hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labelTensor), 'float32'))) as tf.Scalar;
      return tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, ctx.config.labelSmoothing) as tf.Scalar;
    }, ctx.variables);
    if (ctx.config.weightDecay > 0) {
      for (const v of ctx.variables) if (ctx.decayed.has(v.name)) grads[v.name] = tf.add(grads[v.name], tf.mul(v, ctx.config.weightDecay));
    }
    ctx.optimizer.applyGradients(grads as tf.NamedTensorMap as Record<string, tf.Variable>);
    return [value as tf.Scalar, hits ?? tf.scalar(0)];
  });
  const result = { loss: loss.dataSync()[0], correct: correct.dataSync()[0] };
  tf.dispose([loss, correct]);
  return result;
}

/** Whether this epoch beats the best so far: higher validation accuracy, ties broken by lower loss. */
function isBetter(metrics: EpochMetrics, best: { accuracy: number; loss: number } | undefined): boolean {
  return !best || metrics.validationAccuracy > best.accuracy || (metrics.validationAccuracy === best.accuracy && metrics.validationLoss < best.loss);
}

/**
 * An exponential moving average of every weight of a model (batch-norm statistics included),
 * with the usual warm-up: the decay is min(decay, (1 + t)/(10 + t)) at update t. Updating every
 * few steps with the decay raised to that power (airbench does the same) costs a fraction of the
 * three tensor ops per weight that an update takes, which for a small network is a sixth of a step.
 */
export class WeightAverage {
  private averages: tf.Tensor[];
  private updates = 0;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly decay: number,
  ) {
    this.averages = model.getWeights().map((w) => tf.keep(tf.clone(w)));
  }

  update(): void {
    const d = Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
    this.updates++;
    const current = this.model.getWeights();
    const next = tf.tidy(() => this.averages.map((a, i) => tf.keep(tf.add(a, tf.mul(tf.sub(current[i], a), 1 - d)))));
    tf.dispose(this.averages);
    this.averages = next;
  }

  /** Copies of the averaged weights (for {@link tf.LayersModel.setWeights}). */
  snapshot(): tf.Tensor[] {
    return this.averages.map((a) => tf.keep(tf.clone(a)));
  }

  dispose(): void {
    tf.dispose(this.averages);
  }
}

/** Runs `fn` with `weights` loaded into the model, then puts the model's own weights back. */
function withWeights<T>(model: tf.LayersModel, weights: tf.Tensor[] | undefined, fn: () => T): T {
  if (!weights) return fn();
  const own = model.getWeights().map((w) => tf.keep(tf.clone(w)));
  model.setWeights(weights);
  try {
    return fn();
  } finally {
    model.setWeights(own);
    tf.dispose(own);
  }
}

/** Steps between updates of the weight average. */
const EMA_EVERY = 4;

/** What {@link fitNetwork} needs: the images to learn from, the recipe and the callbacks. */
export interface FitOptions {
  train: readonly LabeledImage[];
  /** Evaluated after every epoch (history, and the epoch choice with `selection: 'best'`). */
  validation?: readonly LabeledImage[];
  config: TrainingConfig;
  numClasses: number;
  preprocessing: Preprocessing;
  /** Initialisation, augmentation and shuffles are drawn from it. */
  random: Random;
  signal?: AbortSignal;
  onStep?(progress: StepProgress): void;
  onEpoch?(metrics: EpochMetrics): void;
}

export interface FitResult {
  /** Images → probabilities, holding the kept weights; owned by the caller. */
  model: tf.LayersModel;
  history: EpochMetrics[];
  /** The epoch whose weights were kept. */
  bestEpoch: number;
  batchSize: number;
}

/**
 * Trains a network from scratch on `train`: augmentation, one-cycle SGD with Nesterov momentum,
 * label smoothing, weight decay, optionally an average of the weights. Keeps the last epoch's
 * weights (or the best on validation, `selection: 'best'`).
 */
export async function fitNetwork(options: FitOptions): Promise<FitResult> {
  const { config, numClasses, preprocessing, random, train } = options;
  const batchSize = Math.min(config.batchSize, train.length);
  const stepsPerEpoch = Math.floor(train.length / batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const { model, logitsModel } = buildResNet({
    architecture: config.architecture,
    stemWidth: config.stemWidth,
    widths: config.widths,
    blocks: config.blocks,
    numClasses,
    inputSize: { width: preprocessing.width, height: preprocessing.height },
    seed: random.seed(),
  });
  const ctx: StepContext = {
    config,
    numClasses,
    preprocessing,
    logitsModel,
    optimizer: tf.train.momentum(config.learningRate, config.momentum, true),
    variables: logitsModel.trainableWeights.map((w) => w.read() as tf.Variable),
    decayed: new Set(logitsModel.trainableWeights.filter((w) => /kernel$/.test(w.originalName)).map((w) => (w.read() as tf.Variable).name)),
  };
  const augmentRandom = new Random(random.seed());
  const augmentation = { padding: config.augmentPadding, flip: config.augmentFlip, cutout: config.augmentCutout };
  const validationImages = options.validation?.map((x) => x.image) ?? [];
  const validationLabels = options.validation?.map((x) => x.label) ?? [];
  const average = config.emaDecay > 0 ? new WeightAverage(model, config.emaDecay ** EMA_EVERY) : undefined;
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
      // The last partial batch is dropped: every step sees a full batch (stable batch statistics).
      for (let step = 0; step < stepsPerEpoch; step++) {
        throwIfAborted(options.signal);
        lr = learningRateAt(done / totalSteps, config.learningRate, config.warmupFraction);
        ctx.optimizer.setLearningRate(lr);
        const batch = order.slice(step * batchSize, (step + 1) * batchSize).map((i) => train[i]);
        const { loss, correct } = trainStep(
          ctx,
          batch.map((x) => augmentImage(x.image, augmentRandom, augmentation)),
          batch.map((x) => x.label),
        );
        if (average && (done + 1) % EMA_EVERY === 0) average.update();
        lossSum += loss * batch.length;
        correctSum += correct;
        seen += batch.length;
        done++;
        options.onStep?.({ epoch, step: step + 1, stepsPerEpoch, done, total: totalSteps });
        // Lets Ctrl-C (and progress output) through: the wasm kernels run synchronously.
        await yieldToEventLoop();
      }
      throwIfAborted(options.signal);
      const kept = average?.snapshot();
      const validationEval = validationImages.length ? withWeights(model, kept, () => evaluate(predictProbabilities(model, validationImages, preprocessing), validationLabels, numClasses)) : undefined;
      const metrics: EpochMetrics = {
        epoch,
        trainLoss: lossSum / seen,
        trainAccuracy: correctSum / seen,
        validationLoss: validationEval?.loss ?? Number.NaN,
        validationAccuracy: validationEval?.accuracy ?? Number.NaN,
        learningRate: lr,
        seconds: (performance.now() - epochStart) / 1000,
      };
      history.push(metrics);
      // Without validation there is nothing to select on: the last epoch is kept.
      const keep = config.selection === 'last' || !validationEval ? epoch === config.epochs - 1 : isBetter(metrics, best);
      if (keep) {
        if (best) tf.dispose(best.weights);
        best = { epoch, accuracy: metrics.validationAccuracy, loss: metrics.validationLoss, weights: kept ?? model.getWeights().map((w) => tf.keep(tf.clone(w))) };
      } else if (kept) tf.dispose(kept);
      options.onEpoch?.(metrics);
    }
    if (!best) throw new TrainingError('no epoch completed');
    model.setWeights(best.weights);
    succeeded = true;
    return { model, history, bestEpoch: best.epoch, batchSize };
  } finally {
    if (best) tf.dispose(best.weights);
    average?.dispose();
    ctx.optimizer.dispose();
    // MomentumOptimizer.dispose() forgets the learning-rate scalar its SGD base class keeps.
    (ctx.optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
    if (!succeeded) model.dispose();
  }
}

/** Validation predictions with and without averaging over the mirror image, as the config decides. */
function chooseTestTimeFlip(model: tf.LayersModel, images: RgbImage[], labels: number[], preprocessing: Preprocessing, numClasses: number, mode: TrainingConfig['testTimeFlip']) {
  const plain = predictProbabilities(model, images, preprocessing);
  const mirrored = predictProbabilities(model, images, preprocessing, { flipAverage: true });
  const plainEval = evaluate(plain, labels, numClasses);
  const mirroredEval = evaluate(mirrored, labels, numClasses);
  const flip = mode === 'always' || (mode === 'validation' && (mirroredEval.accuracy > plainEval.accuracy || (mirroredEval.accuracy === plainEval.accuracy && mirroredEval.loss < plainEval.loss)));
  return {
    flip,
    probabilities: flip ? mirrored : plain,
    evaluation: flip ? mirroredEval : plainEval,
    summary: { chosen: flip, accuracyWith: mirroredEval.accuracy, accuracyWithout: plainEval.accuracy },
  };
}

/**
 * The `training.hyperparameters.preset` of a run: the preset's name, or `<name>+custom` when
 * options changed it, so a tool can tell whether a model was trained the way it would train one.
 */
export function trainingPresetName(options: Pick<TrainOptions, 'preset' | 'config'>): string {
  const name = options.preset ?? 'full';
  const changed = Object.entries(options.config ?? {}).some(([key, value]) => JSON.stringify(TRAINING_PRESETS[name][key as keyof TrainingConfig]) !== JSON.stringify(value));
  return changed ? `${name}+custom` : name;
}

/** The hyperparameters recorded in the manifest (strings and numbers a reader can compare). */
function describeHyperparameters(config: TrainingConfig, batchSize: number, flip: boolean, preset: string): ModelManifest['training']['hyperparameters'] {
  const augmentation = [`reflect-pad ${config.augmentPadding} random crop`, config.augmentFlip ? 'horizontal flip' : '', config.augmentCutout ? `cutout ${config.augmentCutout}` : ''];
  return {
    preset,
    architecture: `${config.architecture}${config.architecture === 'compact' ? `-stem${config.stemWidth ?? 24}` : ''}-${config.widths.join('-')}x${config.blocks.join('-')}`,
    epochs: config.epochs,
    batchSize,
    learningRate: config.learningRate,
    schedule: `one-cycle (warm-up ${config.warmupFraction}, cosine)`,
    optimizer: 'sgd-nesterov',
    momentum: config.momentum,
    weightDecay: config.weightDecay,
    labelSmoothing: config.labelSmoothing,
    emaDecay: config.emaDecay,
    selection: config.selection,
    validationFraction: config.validationFraction,
    augmentation: augmentation.filter(Boolean).join(', '),
    imageSize: config.imageSize,
    ...(config.maxImagesPerClass > 0 ? { maxImagesPerClass: config.maxImagesPerClass } : {}),
    [TEST_TIME_FLIP]: flip,
    backend: tf.getBackend(),
  };
}

function roundHistory(history: EpochMetrics[]): EpochMetrics[] {
  return history.map((h) => ({
    ...h,
    trainLoss: round(h.trainLoss),
    trainAccuracy: round(h.trainAccuracy),
    validationLoss: round(h.validationLoss),
    validationAccuracy: round(h.validationAccuracy),
    learningRate: round(h.learningRate, 8),
    seconds: round(h.seconds, 3),
  }));
}

function testFigures(e: Evaluation): NonNullable<ModelManifest['test']> {
  return { count: e.count, accuracy: round(e.accuracy), confusionMatrix: e.confusionMatrix, precision: e.precision.map((v) => round(v)), recall: e.recall.map((v) => round(v)) };
}

/**
 * Trains a ResNet on the training channel: stratified validation split, augmentation, one-cycle
 * SGD, an average of the weights (see {@link fitNetwork}; the preset says which epoch is kept).
 * Then, from validation predictions only, decides on test-time flip averaging, recommends a
 * confidence threshold ({@link recommendThreshold}) and computes the monitoring baseline; finally evaluates the test channel
 * once. Returns the model and its manifest, ready for {@link saveArtifact}. The wasm backend must
 * be initialised ({@link initBackend}).
 */
export async function trainClassifier(options: TrainOptions): Promise<TrainedClassifier> {
  const config: TrainingConfig = { ...TRAINING_PRESETS[options.preset ?? 'full'], ...options.config };
  checkConfig(config);
  checkData(options);
  const seed = options.seed ?? DEFAULT_SEED;
  const numClasses = options.classNames.length;
  const started = performance.now();
  // One generator, drawn in a fixed order: subset, split, initialisation, augmentation, shuffles.
  const random = new Random(seed);
  const pool = config.maxImagesPerClass > 0 ? subsetPerClass(options.train, config.maxImagesPerClass, random) : options.train;
  const split = stratifiedSplit(
    pool.map((x) => x.label),
    config.validationFraction,
    random,
  );
  const train = split.train.map((i) => pool[i]);
  const validation = split.validation.map((i) => pool[i]);
  const preprocessing = fitPreprocessing(
    train.map((x) => x.image),
    config.imageSize,
    config.imageSize,
  );
  const fit = await fitNetwork({ train, validation, config, numClasses, preprocessing, random, signal: options.signal, onStep: options.onStep, onEpoch: options.onEpoch });
  const { model } = fit;
  let succeeded = false;
  try {
    const validationImages = validation.map((x) => x.image);
    const validationLabels = validation.map((x) => x.label);
    // Everything below is decided on validation data; the test channel is only reported.
    const chosen = chooseTestTimeFlip(model, validationImages, validationLabels, preprocessing, numClasses, config.testTimeFlip);
    const confidences = chosen.probabilities.map((p) => Math.max(...p));
    const correct = chosen.probabilities.map((p, i) => argMax(p) === validationLabels[i]);
    const testEval = options.test?.length
      ? evaluate(
          predictProbabilities(
            model,
            options.test.map((x) => x.image),
            preprocessing,
            { flipAverage: chosen.flip },
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
        bestEpoch: fit.bestEpoch,
        trainCount: train.length,
        validationCount: validation.length,
        seconds: round((performance.now() - started) / 1000, 3),
        history: roundHistory(fit.history),
        hyperparameters: describeHyperparameters(config, fit.batchSize, chosen.flip, trainingPresetName(options)),
      },
      ...(testEval ? { test: testFigures(testEval) } : {}),
      threshold: recommendThreshold(confidences, correct, options.targetPrecision ?? DEFAULT_TARGET_PRECISION),
      // Embeddings of held-out and training images: embedding drift and out-of-distribution monitoring.
      baseline: computeBaseline(validationImages, chosen.probabilities, numClasses, {
        validation: embedImages(model, validationImages, preprocessing),
        training: embedImages(model, train.map((x) => x.image), preprocessing),
      }),
    };
    succeeded = true;
    return {
      model,
      manifest,
      validation: chosen.evaluation,
      ...(testEval ? { test: testEval } : {}),
      flipAverage: chosen.summary,
      validationPredictions: { probabilities: chosen.probabilities, labels: validationLabels },
    };
  } finally {
    if (!succeeded) model.dispose();
  }
}
