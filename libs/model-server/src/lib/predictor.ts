import type { RgbImage } from '@scones/image-classifier';

/**
 * What the server needs from a model: its class names and a batched prediction, one probability
 * array per image in class order. `Classifier` from @scones/image-classifier is one; tests use
 * small deterministic fakes.
 */
export interface Predictor {
  readonly classNames: readonly string[];
  predictImages(images: RgbImage[]): Promise<number[][]>;
}
