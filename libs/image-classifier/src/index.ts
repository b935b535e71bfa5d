export { ImageClassifierError, ImageDecodeError, BackendInitError, TrainingDataError, TrainingError, ArtifactError, SageMakerTrainingError } from './errors';
export { decodeImage, resizeImage, channelMeans, encodePng, sniffImageFormat, type RgbImage, type ImageFormat } from './lib/image-decode';
export { initBackend, backendInfo, wasmDirectory, type BackendOptions, type BackendInfo } from './lib/backend';
export { preprocess, fitPreprocessing, type Preprocessing } from './lib/preprocess';
export { augmentImage, flipImage, type AugmentOptions } from './lib/augment';
export { Random, stratifiedSplit } from './lib/random';
export { buildResNet, type ResNetConfig, type ResNet } from './lib/model';
export { evaluate, argMax, type Evaluation } from './lib/evaluation';
export { recommendThreshold, precisionThreshold, DEFAULT_TARGET_PRECISION, THRESHOLD_RESAMPLES, type RecommendThresholdOptions } from './lib/threshold';
export { computeBaseline } from './lib/baseline';
export { predictProbabilities, embedImages, embeddingSize, type PredictOptions } from './lib/inference';
export { TRAINING_PRESETS, learningRateAt, type TrainingConfig } from './lib/training-config';
export {
  trainClassifier,
  DEFAULT_SEED,
  TEST_TIME_FLIP,
  type TrainOptions,
  type TrainedClassifier,
  type LabeledImage,
  type EpochMetrics,
  type StepProgress,
} from './lib/train';
export { readChannel, hasChannel, describeLocation, type DataSource, type Channel, type ReadChannelOptions } from './lib/training-data';
export {
  saveArtifact,
  readManifest,
  readArtifactFile,
  loadArtifactModel,
  describeArtifactFile,
  artifactAtUrl,
  MANIFEST_FILE,
  WEIGHTS_FILE,
  type ArtifactLocation,
  type S3ArtifactLocation,
  type S3TarballArtifactLocation,
  type ArtifactFiles,
} from './lib/artifact';
export { loadClassifier, createClassifier, type Classifier } from './lib/classifier';
export { runLocalTrainingJob, checkJobName, defaultJobName, type LocalTrainingJobOptions, type LocalTrainingJobResult } from './lib/training-job';
export {
  createTrainingJobRequest,
  runSageMakerTrainingJob,
  ORIGINAL_HYPERPARAMETERS,
  type SageMakerTrainingJobOptions,
  type TrainingJobStatus,
  type TrainingJobResult,
  type RunTrainingJobOptions,
} from './lib/sagemaker-training';
export { imageClassificationImageUri, IMAGE_CLASSIFICATION_REGISTRIES } from './lib/algorithm-images';
export { TrainingLogFollower, TRAINING_LOG_GROUP } from './lib/training-log';
