/**
 * The built-in image-classification algorithm's hyperparameters, mapped onto the project's
 * trainer. Honoured: the ones with a counterpart (epochs, learning_rate, mini_batch_size, momentum,
 * weight_decay, image_shape's side); required as by the algorithm: num_classes,
 * num_training_samples. Every other one (num_layers, use_pretrained_model, optimizer,
 * augmentation_type…) is accepted, recorded in the job, and named in its log as not honoured.
 * Three extensions of the local stack: `scones_preset` (`full` default, `quick` for smoke runs),
 * `scones_class_names` (comma-separated; default `class_0`, `class_1`, …) and `scones_seed` —
 * leave them out of requests to AWS, whose algorithm refuses hyperparameters it does not know.
 */
export interface TrainerSettings {
  preset: 'full' | 'quick';
  /** `scones_seed`: the trainer's random seed (split, initialisation, augmentation); default the trainer's. */
  seed?: number;
  classNames: string[];
  numTrainingSamples: number;
  /** Overrides of the preset's configuration. */
  config: { epochs?: number; batchSize?: number; learningRate?: number; momentum?: number; weightDecay?: number; imageSize?: number };
  /** Hyperparameters given but not honoured, with why (for the job's log). */
  notHonoured: string[];
}

export class HyperparameterError extends Error {
  override readonly name = 'HyperparameterError';
}

/** The algorithm's hyperparameters with no counterpart in the local trainer. */
const ALGORITHM_ONLY: Record<string, string> = {
  num_layers: 'the local trainer trains its own ResNet-9 (see scones_preset)',
  use_pretrained_model: 'no pretrained ImageNet weights locally; the network is trained from scratch',
  use_weighted_loss: 'classes are weighted equally',
  augmentation_type: 'the trainer applies its own augmentation (random crop, flip)',
  resize: 'images are resized to image_shape',
  optimizer: 'the trainer uses SGD with Nesterov momentum',
  beta_1: 'the trainer uses SGD with Nesterov momentum',
  beta_2: 'the trainer uses SGD with Nesterov momentum',
  eps: 'the trainer uses SGD with Nesterov momentum',
  gamma: 'the trainer uses SGD with Nesterov momentum',
  lr_scheduler_factor: 'the trainer uses a one-cycle schedule (warm-up, cosine decay)',
  lr_scheduler_step: 'the trainer uses a one-cycle schedule (warm-up, cosine decay)',
  top_k: 'the trainer reports top-1 accuracy',
  precision_dtype: 'the trainer computes in float32',
  kv_store: 'one local instance',
  checkpoint_frequency: 'the trainer keeps the epoch with the best validation accuracy',
  early_stopping: 'the trainer runs every epoch',
  early_stopping_min_epochs: 'the trainer runs every epoch',
  early_stopping_patience: 'the trainer runs every epoch',
  early_stopping_tolerance: 'the trainer runs every epoch',
  multi_label: 'single-label classification only',
};

function integer(name: string, text: string, min: number): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < min) throw new HyperparameterError(`hyperparameter ${name}: expected an integer >= ${min}, got ${JSON.stringify(text)}`);
  return Number(text);
}

function positive(name: string, text: string, allowZero = false): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new HyperparameterError(`hyperparameter ${name}: expected a number ${allowZero ? '>= 0' : '> 0'}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Reads the job's hyperparameters; throws {@link HyperparameterError} naming the first bad one. */
export function trainerSettings(hyperParameters: Readonly<Record<string, string>>): TrainerSettings {
  const get = (name: string) => (Object.hasOwn(hyperParameters, name) ? hyperParameters[name] : undefined);
  const numClassesText = get('num_classes');
  if (numClassesText === undefined) throw new HyperparameterError('hyperparameter num_classes is required (the number of classes in the .lst labels)');
  const numClasses = integer('num_classes', numClassesText, 2);
  const samplesText = get('num_training_samples');
  if (samplesText === undefined) throw new HyperparameterError('hyperparameter num_training_samples is required (the number of images in the training .lst)');
  const numTrainingSamples = integer('num_training_samples', samplesText, 1);
  const notHonoured: string[] = [];
  const config: TrainerSettings['config'] = {};

  const presetText = get('scones_preset') ?? 'full';
  if (presetText !== 'full' && presetText !== 'quick') throw new HyperparameterError(`hyperparameter scones_preset: expected "full" or "quick", got ${JSON.stringify(presetText)}`);
  const namesText = get('scones_class_names');
  const classNames = namesText === undefined ? Array.from({ length: numClasses }, (_, i) => `class_${i}`) : namesText.split(',').map((n) => n.trim());
  if (classNames.length !== numClasses || classNames.some((n) => n === '') || new Set(classNames).size !== classNames.length) {
    throw new HyperparameterError(`hyperparameter scones_class_names: expected ${numClasses} distinct comma-separated names (num_classes), got ${JSON.stringify(namesText)}`);
  }

  const seedText = get('scones_seed');
  const seed = seedText === undefined ? undefined : integer('scones_seed', seedText, 0);

  const epochs = get('epochs');
  if (epochs !== undefined) config.epochs = integer('epochs', epochs, 1);
  const batch = get('mini_batch_size');
  if (batch !== undefined) config.batchSize = integer('mini_batch_size', batch, 2);
  const rate = get('learning_rate');
  if (rate !== undefined) config.learningRate = positive('learning_rate', rate);
  const momentum = get('momentum');
  if (momentum !== undefined) config.momentum = positive('momentum', momentum, true);
  const decay = get('weight_decay');
  if (decay !== undefined) config.weightDecay = positive('weight_decay', decay, true);
  const shape = get('image_shape');
  if (shape !== undefined) {
    const parts = shape.split(',').map((p) => p.trim());
    if (parts.length !== 3 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
      throw new HyperparameterError(`hyperparameter image_shape: expected "channels,height,width" such as "3,32,32", got ${JSON.stringify(shape)}`);
    }
    const [channels, height, width] = parts.map(Number);
    if (channels !== 3) notHonoured.push(`image_shape ${shape}: the trainer reads RGB images (3 channels)`);
    if (height !== width) notHonoured.push(`image_shape ${shape}: the trainer's input is square; keeping the preset's side`);
    else if (height < 8 || height > 256) throw new HyperparameterError(`hyperparameter image_shape: a side of ${height} pixels is outside what the local trainer supports (8-256)`);
    else config.imageSize = height;
  }
  const multiLabel = get('multi_label');
  if (multiLabel !== undefined && multiLabel.trim() !== '0') throw new HyperparameterError('hyperparameter multi_label: the local trainer does single-label classification only (multi_label=0)');

  const known = new Set(['num_classes', 'num_training_samples', 'scones_preset', 'scones_class_names', 'scones_seed', 'epochs', 'mini_batch_size', 'learning_rate', 'momentum', 'weight_decay', 'image_shape', 'multi_label']);
  for (const [name, value] of Object.entries(hyperParameters)) {
    if (known.has(name)) continue;
    const why = ALGORITHM_ONLY[name];
    notHonoured.push(`${name}=${value}: ${why ?? 'not a hyperparameter of the image-classification algorithm the local trainer stands in for'}`);
  }
  return { preset: presetText, classNames, numTrainingSamples, config, notHonoured, ...(seed !== undefined ? { seed } : {}) };
}
