import * as tf from '@tensorflow/tfjs';
import { flipImage } from './augment';
import type { RgbImage } from './image-decode';
import { compileInferenceGraph, type InferenceGraph } from './inference-graph';
import { preprocess, type Preprocessing } from './preprocess';

export interface PredictOptions {
  /** Images per forward pass (bounds memory). Default 64. */
  batchSize?: number;
  /** Average with the prediction of the mirrored image (test-time augmentation). */
  flipAverage?: boolean;
}

/**
 * Class probabilities of each image (one row per image) from a compiled graph, in batches. With
 * `flipAverage` the mirror images ride in the same forward pass (one call of 2n images is
 * cheaper than two of n) and each row is the mean of the two predictions.
 */
export function predictWithGraph(graph: InferenceGraph, images: readonly RgbImage[], preprocessing: Preprocessing, options: PredictOptions = {}): number[][] {
  const batchSize = options.batchSize ?? 64;
  const rows: number[][] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const n = batch.length;
    const input = options.flipAverage ? [...batch, ...batch.map(flipImage)] : batch;
    const probabilities = tf.tidy(() => graph.run(preprocess(input, preprocessing)).probabilities);
    const data = probabilities.dataSync();
    const k = probabilities.shape[1];
    probabilities.dispose();
    for (let i = 0; i < n; i++) {
      const row = new Array<number>(k);
      for (let c = 0; c < k; c++) row[c] = options.flipAverage ? (data[i * k + c] + data[(i + n) * k + c]) / 2 : data[i * k + c];
      rows.push(row);
    }
  }
  return rows;
}

/** Stage features ({@link InferenceGraph.embed}) of each image from a compiled graph (no test-time flip), in batches. */
export function embedWithGraph(graph: InferenceGraph, images: readonly RgbImage[], preprocessing: Preprocessing, options: Pick<PredictOptions, 'batchSize'> = {}): Float32Array[] {
  const batchSize = options.batchSize ?? 64;
  const rows: Float32Array[] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const features = tf.tidy(() => graph.embed(preprocess(batch, preprocessing)));
    const [n, d] = features.shape;
    const data = features.dataSync() as Float32Array;
    features.dispose();
    for (let i = 0; i < n; i++) rows.push(data.slice(i * d, (i + 1) * d));
  }
  return rows;
}

/** Runs `fn` on the serving graph of `model` (its current weights), then frees the graph. */
function withGraph<T>(model: tf.LayersModel, fn: (graph: InferenceGraph) => T): T {
  const graph = compileInferenceGraph(model);
  try {
    return fn(graph);
  } finally {
    graph.dispose();
  }
}

/**
 * Class probabilities of each image (one row per image) from a model in memory, computed exactly
 * as a loaded {@link Classifier} computes them (the same compiled graph).
 */
export function predictProbabilities(model: tf.LayersModel, images: readonly RgbImage[], preprocessing: Preprocessing, options: PredictOptions = {}): number[][] {
  return withGraph(model, (graph) => predictWithGraph(graph, images, preprocessing, options));
}

/** Length of {@link embedImages}' vectors for this model (two values per channel of every stage). */
export function embeddingSize(model: tf.LayersModel): number {
  return withGraph(model, (graph) => graph.embeddingSize);
}

/**
 * The stage features of each image ({@link InferenceGraph.embed}: per-channel mean and spread of
 * every feature map that is pooled), with the same preprocessing as predictions and no test-time flip. For a model
 * in memory (during training), the same numbers {@link Classifier.embed} gives once it is saved
 * and loaded; used for embedding drift.
 */
export function embedImages(model: tf.LayersModel, images: readonly RgbImage[], preprocessing: Preprocessing, options: Pick<PredictOptions, 'batchSize'> = {}): Float32Array[] {
  return withGraph(model, (graph) => embedWithGraph(graph, images, preprocessing, options));
}
