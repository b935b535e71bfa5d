/** Base class of every error raised by @scones/image-classifier. */
export class ImageClassifierError extends Error {
  override readonly name: string = 'ImageClassifierError';
}

/** The bytes are not a PNG or JPEG image we can decode (or are corrupt). */
export class ImageDecodeError extends ImageClassifierError {
  override readonly name = 'ImageDecodeError';
}

/** The TensorFlow.js wasm backend could not be initialised (missing .wasm files, failed worker start). */
export class BackendInitError extends ImageClassifierError {
  override readonly name = 'BackendInitError';
}

/** Training data is unusable: a bad `.lst` row, a label out of range, a missing or corrupt image. */
export class TrainingDataError extends ImageClassifierError {
  override readonly name = 'TrainingDataError';
}

/** Training options or a training run that cannot work (too few images of a class, bad values). */
export class TrainingError extends ImageClassifierError {
  override readonly name = 'TrainingError';
}

/** A model artifact is missing, incomplete or corrupt (manifest, model.json or weights). */
export class ArtifactError extends ImageClassifierError {
  override readonly name = 'ArtifactError';
}

/** A SageMaker training job could not be created or did not complete. */
export class SageMakerTrainingError extends ImageClassifierError {
  override readonly name = 'SageMakerTrainingError';
}
