import * as tf from '@tensorflow/tfjs';
import { flipImage } from './augment';
import type { RgbImage } from './image-decode';
import { preprocess, type Preprocessing } from './preprocess';

export interface PredictOptions {
  /** Images per forward pass (bounds memory). Default 64. */
  batchSize?: number;
  /** Average with the prediction of the mirrored image (test-time augmentation). */
  flipAverage?: boolean;
}

/** Class probabilities of each image (one row per image), computed in batches. */
export function predictProbabilities(model: tf.LayersModel, images: readonly RgbImage[], preprocessing: Preprocessing, options: PredictOptions = {}): number[][] {
  const batchSize = options.batchSize ?? 64;
  const rows: number[][] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const probabilities = tf.tidy(() => {
      const p = model.predict(preprocess(batch, preprocessing)) as tf.Tensor2D;
      if (!options.flipAverage) return p;
      const mirrored = model.predict(preprocess(batch.map(flipImage), preprocessing)) as tf.Tensor2D;
      return tf.div(tf.add(p, mirrored), 2) as tf.Tensor2D;
    });
    rows.push(...(probabilities.arraySync() as number[][]));
    probabilities.dispose();
  }
  return rows;
}
