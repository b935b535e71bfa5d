import * as tf from '@tensorflow/tfjs';
import type { ModelManifest } from '@scones/payload-schemas';
import { TrainingError } from '../errors';
import { resizeImage, type RgbImage } from './image-decode';

export type Preprocessing = ModelManifest['preprocessing'];

/**
 * THE preprocessing of this model, in training and serving alike: resize each image to
 * `p.width × p.height` ({@link resizeImage}), scale to [0, 1] and normalise each channel with the
 * training set's mean and standard deviation. Returns an NHWC float32 batch.
 */
export function preprocess(images: readonly RgbImage[], p: Preprocessing): tf.Tensor4D {
  const { width, height } = p;
  const pixels = width * height;
  const out = new Float32Array(images.length * pixels * 3);
  const scale = [1 / (255 * p.std[0]), 1 / (255 * p.std[1]), 1 / (255 * p.std[2])];
  const offset = [p.mean[0] / p.std[0], p.mean[1] / p.std[1], p.mean[2] / p.std[2]];
  images.forEach((image, n) => {
    const data = resizeImage(image, width, height).data;
    const base = n * pixels * 3;
    for (let i = 0; i < pixels * 3; i += 3) {
      out[base + i] = data[i] * scale[0] - offset[0];
      out[base + i + 1] = data[i + 1] * scale[1] - offset[1];
      out[base + i + 2] = data[i + 2] * scale[2] - offset[2];
    }
  });
  return tf.tensor4d(out, [images.length, height, width, 3]);
}

/**
 * Preprocessing parameters fitted on training images: per-channel mean and standard deviation
 * of the pixels (0..1) after resizing to `width × height`.
 */
export function fitPreprocessing(images: readonly RgbImage[], width = 32, height = 32): Preprocessing {
  if (images.length === 0) throw new TrainingError('cannot fit preprocessing on zero images');
  const sum = [0, 0, 0];
  const squares = [0, 0, 0];
  let count = 0;
  for (const image of images) {
    const data = resizeImage(image, width, height).data;
    for (let i = 0; i < data.length; i += 3) {
      for (let c = 0; c < 3; c++) {
        const v = data[i + c] / 255;
        sum[c] += v;
        squares[c] += v * v;
      }
    }
    count += data.length / 3;
  }
  const mean = sum.map((s) => s / count);
  // A constant channel would divide by zero; 1e-3 keeps it finite (and such a channel carries nothing).
  const std = squares.map((s, c) => Math.max(Math.sqrt(Math.max(s / count - mean[c] ** 2, 0)), 1e-3));
  const round = (v: number) => Math.round(v * 1e6) / 1e6;
  return {
    width,
    height,
    channels: 3,
    mean: [round(mean[0]), round(mean[1]), round(mean[2])],
    std: [round(std[0]), round(std[1]), round(std[2])],
  };
}
