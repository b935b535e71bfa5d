import { augmentImage, flipImage } from './augment';
import type { RgbImage } from './image-decode';
import { Random } from './random';

// A 4×2 image whose red channel is its x coordinate and green channel its y coordinate.
const image: RgbImage = { width: 4, height: 2, data: Uint8Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? (i / 3) % 4 : i % 3 === 1 ? Math.floor(i / 12) : 9)) };
const red = (img: RgbImage) => Array.from({ length: img.width * img.height }, (_, p) => img.data[p * 3]);

describe('augmentImage', () => {
  it('flips left-right', () => {
    expect(red(flipImage(image))).toEqual([3, 2, 1, 0, 3, 2, 1, 0]);
  });

  it('crops a shifted window with reflection at the borders and keeps the size', () => {
    const seen = new Set<string>();
    const random = new Random(7);
    for (let i = 0; i < 200; i++) {
      const out = augmentImage(image, random, { padding: 1, flip: false });
      expect([out.width, out.height]).toEqual([4, 2]);
      const r = red(out);
      // Each row is a shift of 0..3 by -1, 0 or +1 with the edge reflected (1 0 1 2 / 1 2 3 2).
      expect([
        [0, 1, 2, 3],
        [1, 0, 1, 2],
        [1, 2, 3, 2],
      ]).toContainEqual(r.slice(0, 4));
      seen.add(r.slice(0, 4).join());
      expect(out.data.every((v, k) => k % 3 !== 2 || v === 9)).toBe(true);
    }
    expect(seen.size).toBe(3);
  });

  it('cuts out a grey square (partly outside the image at times) and nothing else', () => {
    const white: RgbImage = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(255) };
    const sizes = new Set<number>();
    const random = new Random(5);
    for (let i = 0; i < 100; i++) {
      const out = augmentImage(white, random, { padding: 0, flip: false, cutout: 4 });
      const grey = out.data.filter((v) => v === 128).length / 3;
      expect(out.data.every((v) => v === 128 || v === 255)).toBe(true);
      expect(grey).toBeGreaterThan(0);
      expect(grey).toBeLessThanOrEqual(16);
      sizes.add(grey);
    }
    expect(sizes.has(16)).toBe(true);
    expect(sizes.size).toBeGreaterThan(1);
  });

  it('is deterministic for a seed', () => {
    const a = new Random(3);
    const b = new Random(3);
    for (let i = 0; i < 20; i++) expect(augmentImage(image, a, { padding: 2, flip: true })).toEqual(augmentImage(image, b, { padding: 2, flip: true }));
  });

  it('returns the image itself when nothing changes', () => {
    expect(augmentImage(image, new Random(1), { padding: 0, flip: false })).toBe(image);
  });
});
