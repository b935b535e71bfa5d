import { channelMeans, encodePng, type RgbImage } from '@scones/image-classifier';
import type { Predictor } from '../src';

/**
 * A deterministic two-class "model": p(motorcycle) = mean red of the image, so each test image
 * has a known, distinct answer. Records every batch it was called with.
 */
export class FakePredictor implements Predictor {
  readonly classNames = ['bicycle', 'motorcycle'];
  readonly batches: number[] = [];
  /** Every image predicted, in the order the model saw them. */
  readonly seen: RgbImage[] = [];
  /** Set to make the next calls wait until released (for queue and shutdown tests). */
  gate?: Promise<void>;
  failWith?: Error;

  async predictImages(images: RgbImage[]): Promise<number[][]> {
    this.batches.push(images.length);
    this.seen.push(...images);
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    return images.map((image) => FakePredictor.expected(image));
  }

  static expected(image: RgbImage): number[] {
    const red = channelMeans(image).r;
    return [1 - red, red];
  }
}

/** A solid-colour 32x32 PNG whose red channel is `red` (0..255). */
export function solidPng(red: number, size = 32): { png: Buffer; image: RgbImage } {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = red;
    data[i + 1] = 80;
    data[i + 2] = 160;
  }
  const image = { width: size, height: size, data };
  return { png: encodePng(image), image };
}

/** A promise with its resolve function, for gating a fake model. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
