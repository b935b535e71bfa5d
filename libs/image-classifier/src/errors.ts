/** Base class of every error raised by @scones/image-classifier. */
export class ImageClassifierError extends Error {
  override readonly name: string = 'ImageClassifierError';
}

/** The bytes are not a PNG or JPEG image we can decode (or are corrupt). */
export class ImageDecodeError extends ImageClassifierError {
  override readonly name = 'ImageDecodeError';
}
