import { initBackend } from './backend';
import { resizeImage, type RgbImage } from './image-decode';
import { fitPreprocessing, preprocess, type Preprocessing } from './preprocess';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width, height, data };
}

const P: Preprocessing = { width: 4, height: 4, channels: 3, mean: [0.5, 0.25, 0], std: [0.5, 0.25, 1] };

describe('preprocess', () => {
  beforeAll(async () => {
    await initBackend({ threads: false });
  });

  it('scales to [0, 1] and normalises each channel with the mean and std', () => {
    const t = preprocess([solid(4, 4, [255, 0, 51])], P);
    expect(t.shape).toEqual([1, 4, 4, 3]);
    const v = Array.from(t.dataSync().slice(0, 3));
    expect(v[0]).toBeCloseTo((1 - 0.5) / 0.5, 6);
    expect(v[1]).toBeCloseTo((0 - 0.25) / 0.25, 6);
    expect(v[2]).toBeCloseTo(0.2, 6);
  });

  it('resizes any image size with resizeImage first (serving gets what training got)', () => {
    const big: RgbImage = { width: 8, height: 8, data: Uint8Array.from({ length: 192 }, (_, i) => (i * 7) % 256) };
    const viaResize = preprocess([resizeImage(big, 4, 4)], P).dataSync();
    const direct = preprocess([big], P).dataSync();
    expect(Array.from(direct)).toEqual(Array.from(viaResize));
  });

  it('keeps image order in the batch', () => {
    const t = preprocess([solid(4, 4, [0, 0, 0]), solid(4, 4, [255, 255, 255])], P);
    const d = t.dataSync();
    expect(d[0]).toBeCloseTo(-1, 6);
    expect(d[48]).toBeCloseTo(1, 6);
  });
});

describe('fitPreprocessing', () => {
  it('computes per-channel mean and std of the (resized) pixels', () => {
    const p = fitPreprocessing([solid(2, 2, [0, 255, 100]), solid(4, 4, [255, 255, 100])], 2, 2);
    expect(p).toMatchObject({ width: 2, height: 2, channels: 3 });
    expect(p.mean[0]).toBeCloseTo(0.5, 6);
    expect(p.std[0]).toBeCloseTo(0.5, 6);
    expect(p.mean[1]).toBeCloseTo(1, 6);
    // A constant channel keeps a small positive std instead of dividing by zero.
    expect(p.std[1]).toBe(0.001);
    expect(p.mean[2]).toBeCloseTo(100 / 255, 5);
  });

  it('refuses an empty training set', () => {
    expect(() => fitPreprocessing([])).toThrow('cannot fit preprocessing on zero images');
  });
});
