import type * as tf from '@tensorflow/tfjs';
import type { ModelManifest } from '@scones/payload-schemas';
import { ArtifactError } from '../errors';
import { loadArtifactModel, readManifest, type ArtifactLocation } from './artifact';
import { initBackend } from './backend';
import { decodeImage, type RgbImage } from './image-decode';
import { embedWithGraph, predictWithGraph } from './inference';
import { compileInferenceGraph, type InferenceGraph } from './inference-graph';
import { TEST_TIME_FLIP } from './train';

/** A trained model ready to serve: the manifest travels with it. */
export interface Classifier {
  readonly manifest: ModelManifest;
  readonly classNames: string[];
  /** One probability array per image, in the artifact's class order; batches internally. */
  predictImages(images: RgbImage[]): Promise<number[][]>;
  /** Decodes PNG/JPEG bytes ({@link decodeImage}), then {@link Classifier.predictImages}. */
  predict(images: Uint8Array[]): Promise<number[][]>;
  /**
   * Stage features of each image: the spatial mean and standard deviation of every channel of
   * each feature map the network pools (every resolution it works at, down to the map the final
   * layer's input is averaged from), each stage's block unit-length; {@link embeddingSize} values
   * each, same preprocessing as predictions, no test-time flip; batches internally. For embedding
   * drift and out-of-distribution monitoring.
   */
  embed(images: RgbImage[]): Promise<Float32Array[]>;
  /** Length of each {@link Classifier.embed} vector. */
  readonly embeddingSize: number;
  /** Frees the model's memory; the classifier cannot predict afterwards. */
  dispose(): void;
}

/**
 * Wraps an in-memory model and its manifest (e.g. straight from training). Takes ownership of
 * `model`: it is compiled into the serving graph (batch norm folded, see inference-graph.ts) and
 * disposed. Throws an {@link ArtifactError} for a layer kind the serving graph does not support.
 */
export function createClassifier(model: tf.LayersModel, manifest: ModelManifest): Classifier {
  let graph: InferenceGraph;
  try {
    graph = compileInferenceGraph(model);
  } finally {
    model.dispose();
  }
  let disposed = false;
  const options = { flipAverage: manifest.training.hyperparameters[TEST_TIME_FLIP] === true };
  const live = () => {
    if (disposed) throw new ArtifactError(`classifier ${manifest.jobName} was disposed`);
  };
  return {
    manifest,
    classNames: [...manifest.classNames],
    embeddingSize: graph.embeddingSize,
    async predictImages(images) {
      live();
      return predictWithGraph(graph, images, manifest.preprocessing, options);
    },
    async predict(images) {
      live();
      return predictWithGraph(graph, images.map(decodeImage), manifest.preprocessing, options);
    },
    async embed(images) {
      live();
      return embedWithGraph(graph, images, manifest.preprocessing);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      graph.dispose();
    },
  };
}

/**
 * Loads a model artifact from a directory on disk or an S3 prefix (`models/<job>/`), starting
 * the wasm backend if needed. Errors ({@link ArtifactError}) name the missing or broken file.
 */
export async function loadClassifier(location: ArtifactLocation, options: { signal?: AbortSignal } = {}): Promise<Classifier> {
  await initBackend();
  const manifest = await readManifest(location, options.signal);
  const model = await loadArtifactModel(location, manifest, options.signal);
  return createClassifier(model, manifest);
}
