import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { ImageDecodeError } from '../errors';
import { channelMeans, decodeImage, encodePng, resizeImage, sniffImageFormat, type RgbImage } from './image-decode';

function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x * 8, y * 8, 100], (y * width + x) * 3);
  return { width, height, data };
}

describe('decodeImage', () => {
  it('round-trips an RGB PNG exactly', () => {
    const image = gradient(32, 32);
    const decoded = decodeImage(encodePng(image));
    expect(decoded.width).toBe(32);
    expect(decoded.height).toBe(32);
    expect(Buffer.from(decoded.data)).toEqual(Buffer.from(image.data));
  });

  it('drops alpha from an RGBA PNG', () => {
    const png = new PNG({ width: 2, height: 1 });
    png.data = Buffer.from([10, 20, 30, 255, 40, 50, 60, 0]);
    const decoded = decodeImage(PNG.sync.write(png));
    expect(Array.from(decoded.data)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('decodes a JPEG approximately', () => {
    const rgba = Buffer.alloc(16 * 16 * 4, 0);
    for (let i = 0; i < 16 * 16; i++) rgba.set([200, 100, 50, 255], i * 4);
    const jpeg = encodeJpeg({ data: rgba, width: 16, height: 16 }, 95).data;
    expect(sniffImageFormat(jpeg)).toBe('jpeg');
    const decoded = decodeImage(jpeg);
    expect(decoded.width).toBe(16);
    expect(Math.abs(decoded.data[0] - 200)).toBeLessThan(6);
  });

  it('rejects what is not an image, and a truncated PNG, with ImageDecodeError', () => {
    expect(() => decodeImage(Buffer.from('hello world'))).toThrow(new ImageDecodeError('not a PNG or JPEG image (11 bytes, starts with 68656c6c)'));
    expect(() => decodeImage(new Uint8Array())).toThrow(ImageDecodeError);
    const png = encodePng(gradient(32, 32));
    expect(() => decodeImage(png.subarray(0, 40))).toThrow(/^cannot decode PNG/);
  });
});

describe('resizeImage', () => {
  it('returns the same image at the same size', () => {
    const image = gradient(32, 32);
    expect(resizeImage(image, 32, 32)).toBe(image);
  });
  it('averages areas when shrinking and keeps a flat colour flat when enlarging', () => {
    const image: RgbImage = { width: 2, height: 2, data: new Uint8Array([0, 0, 0, 100, 100, 100, 100, 100, 100, 200, 200, 200]) };
    expect(Array.from(resizeImage(image, 1, 1).data)).toEqual([100, 100, 100]);
    const flat: RgbImage = { width: 2, height: 2, data: new Uint8Array(12).fill(77) };
    const big = resizeImage(flat, 32, 32);
    expect(big.data.length).toBe(32 * 32 * 3);
    expect(new Set(big.data)).toEqual(new Set([77]));
  });
});

describe('channelMeans', () => {
  it('gives per-channel means in [0, 1]', () => {
    const image: RgbImage = { width: 2, height: 1, data: new Uint8Array([255, 0, 51, 255, 0, 51]) };
    const m = channelMeans(image);
    expect(m.r).toBeCloseTo(1);
    expect(m.g).toBeCloseTo(0);
    expect(m.b).toBeCloseTo(0.2);
  });
});
