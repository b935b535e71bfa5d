import type { RgbImage } from './image-decode';
import type { Random } from './random';

export interface AugmentOptions {
  /** Pixels of reflection padding before the random crop back to the original size (0: no crop). */
  padding: number;
  /** Mirror left-right with probability 1/2. */
  flip: boolean;
  /** Side of a square set to mid-grey at a random place (Cutout, DeVries & Taylor 2017); 0: none. */
  cutout?: number;
}

/**
 * The standard CIFAR augmentation: pad by reflection, crop a random window of the original size,
 * and mirror half of the images. Works on raw pixels, before {@link preprocess} normalises them.
 */
export function augmentImage(image: RgbImage, random: Random, options: AugmentOptions): RgbImage {
  const { width, height, data } = image;
  const pad = options.padding;
  const dx = pad > 0 ? random.int(2 * pad + 1) - pad : 0;
  const dy = pad > 0 ? random.int(2 * pad + 1) - pad : 0;
  const flip = options.flip && random.next() < 0.5;
  const cut = options.cutout ?? 0;
  // The square's centre may lie anywhere, so it is often only partly inside the image.
  const cx = cut > 0 ? random.int(width) - Math.floor(cut / 2) : 0;
  const cy = cut > 0 ? random.int(height) - Math.floor(cut / 2) : 0;
  if (dx === 0 && dy === 0 && !flip && cut === 0) return image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const sy = reflect(y + dy, height);
    for (let x = 0; x < width; x++) {
      const sx = reflect((flip ? width - 1 - x : x) + dx, width);
      const o = (y * width + x) * 3;
      const i = (sy * width + sx) * 3;
      out[o] = data[i];
      out[o + 1] = data[i + 1];
      out[o + 2] = data[i + 2];
    }
  }
  for (let y = Math.max(0, cy); y < Math.min(height, cy + cut); y++) out.fill(128, (y * width + Math.max(0, cx)) * 3, (y * width + Math.min(width, cx + cut)) * 3);
  return { width, height, data: out };
}

/** Mirror an out-of-range coordinate back inside [0, size) (edge pixel not repeated). */
function reflect(i: number, size: number): number {
  if (size === 1) return 0;
  let j = i;
  while (j < 0 || j >= size) j = j < 0 ? -j : 2 * (size - 1) - j;
  return j;
}

/** Mirrors an image left-right (test-time augmentation). */
export function flipImage(image: RgbImage): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const i = (y * width + (width - 1 - x)) * 3;
      out[o] = data[i];
      out[o + 1] = data[i + 1];
      out[o + 2] = data[i + 2];
    }
  }
  return { width, height, data: out };
}
