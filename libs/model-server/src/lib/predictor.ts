import type { ImageDecodeError, RgbImage } from '@scones/image-classifier';

/**
 * What the server needs from a model: its class names and a batched prediction, one probability
 * array per image in class order. `Classifier` from @scones/image-classifier is one, the
 * {@link InferenceWorkerPool} another; tests use small deterministic fakes.
 */
export interface Predictor {
  readonly classNames: readonly string[];
  predictImages(images: RgbImage[]): Promise<number[][]>;
  /**
   * Decodes and predicts encoded images (PNG/JPEG bytes) itself, off the HTTP thread: an image that
   * cannot be decoded gets its ImageDecodeError in its place. When present, the server hands the
   * request bodies over undecoded.
   */
  predictEncoded?(images: Uint8Array[]): Promise<Array<number[] | ImageDecodeError>>;
  /** Model calls it can usefully run at once (e.g. one per inference worker). Default 1. */
  readonly concurrency?: number;
  /** False while it cannot predict (e.g. every inference worker died); `/ping` then answers 503. Default true. */
  readonly healthy?: boolean;
}
