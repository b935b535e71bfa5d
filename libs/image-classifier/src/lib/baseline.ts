import { encodeFloat32Matrix, type MonitoringBaseline } from '@scones/payload-schemas';
import { TrainingError } from '../errors';
import { argMax } from './evaluation';
import { channelMeans, type RgbImage } from './image-decode';

/** Stage features ({@link embedImages}) of the validation and the training images. */
export interface BaselineEmbeddings {
  validation: readonly Float32Array[];
  training: readonly Float32Array[];
}

/** A copy of `v` scaled to unit length (a zero vector stays zero). */
export function l2Normalize(v: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  return Float32Array.from(v, (x) => x * scale);
}

/**
 * The monitoring baseline from validation images and the model's predictions on them: what
 * healthy traffic looks like (confidence distribution, class mix, input brightness and sizes),
 * and, given their embeddings, the model's own view of the validation and training images (the
 * stage features: per-channel mean and spread of every pooled feature map). Stored L2-normalised,
 * as traffic embeddings are treated by the monitor.
 */
export function computeBaseline(
  images: readonly RgbImage[],
  probabilities: readonly (readonly number[])[],
  numClasses: number,
  embeddings?: BaselineEmbeddings,
): MonitoringBaseline {
  const predictedClassCounts = new Array<number>(numClasses).fill(0);
  const confidences: number[] = [];
  for (const p of probabilities) {
    const k = argMax(p);
    predictedClassCounts[k]++;
    confidences.push(p[k]);
  }
  const brightness = { r: [] as number[], g: [] as number[], b: [] as number[] };
  const imageSizes: Record<string, number> = {};
  for (const image of images) {
    const m = channelMeans(image);
    brightness.r.push(m.r);
    brightness.g.push(m.g);
    brightness.b.push(m.b);
    const size = `${image.width}x${image.height}`;
    imageSizes[size] = (imageSizes[size] ?? 0) + 1;
  }
  const baseline: MonitoringBaseline = { count: images.length, confidences, predictedClassCounts, brightness, imageSizes };
  if (embeddings) {
    if (embeddings.validation.length !== images.length) {
      throw new TrainingError(`${embeddings.validation.length} validation embeddings for ${images.length} validation images`);
    }
    baseline.embedding = {
      layer: 'stages',
      normalization: 'l2',
      validation: encodeFloat32Matrix(embeddings.validation.map(l2Normalize)),
      training: encodeFloat32Matrix(embeddings.training.map(l2Normalize)),
    };
  }
  return baseline;
}
