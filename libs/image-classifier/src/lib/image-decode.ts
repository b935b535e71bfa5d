import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { ImageDecodeError } from '../errors';

/** An 8-bit RGB image, pixels interleaved row by row (`[r, g, b, r, g, b, ...]`). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export type ImageFormat = 'png' | 'jpeg';

/** Recognises PNG and JPEG by their magic bytes (content types like `application/x-image` say nothing). */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

// Guards against decompression bombs: 4096 x 4096 is far above anything this model needs.
const MAX_PIXELS = 4096 * 4096;

function rgbaToRgb(rgba: Uint8Array, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0, j = 0; i < pixels; i++, j += 4) {
    rgb[i * 3] = rgba[j];
    rgb[i * 3 + 1] = rgba[j + 1];
    rgb[i * 3 + 2] = rgba[j + 2];
  }
  return rgb;
}

/**
 * Decodes PNG (any colour type / bit depth) or JPEG bytes to 8-bit RGB. Alpha is dropped.
 * Throws {@link ImageDecodeError} naming the problem for anything else.
 */
export function decodeImage(bytes: Uint8Array): RgbImage {
  const format = sniffImageFormat(bytes);
  if (!format) throw new ImageDecodeError(`not a PNG or JPEG image (${bytes.length} bytes, starts with ${Buffer.from(bytes.subarray(0, 4)).toString('hex') || 'nothing'})`);
  try {
    if (format === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      if (png.width * png.height > MAX_PIXELS) throw new ImageDecodeError(`PNG too large: ${png.width}x${png.height}`);
      return { width: png.width, height: png.height, data: rgbaToRgb(png.data, png.width * png.height) };
    }
    const jpeg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 256 });
    return { width: jpeg.width, height: jpeg.height, data: rgbaToRgb(jpeg.data, jpeg.width * jpeg.height) };
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    throw new ImageDecodeError(`cannot decode ${format.toUpperCase()}: ${(error as Error).message ?? String(error)}`);
  }
}

/**
 * Resizes with area averaging when shrinking and bilinear interpolation when enlarging, so a
 * 64x64 photo and a 32x32 CIFAR image end up comparable. Returns the input when already the size.
 */
export function resizeImage(image: RgbImage, width: number, height: number): RgbImage {
  if (image.width === width && image.height === height) return image;
  const out = new Uint8Array(width * height * 3);
  const sx = image.width / width;
  const sy = image.height / height;
  const src = image.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (sx >= 1 && sy >= 1) {
        // Area average over the source box [x*sx, (x+1)*sx) x [y*sy, (y+1)*sy).
        const x0 = Math.floor(x * sx);
        const x1 = Math.max(x0 + 1, Math.floor((x + 1) * sx));
        const y0 = Math.floor(y * sy);
        const y1 = Math.max(y0 + 1, Math.floor((y + 1) * sy));
        let r = 0;
        let g = 0;
        let b = 0;
        for (let yy = y0; yy < y1; yy++) {
          for (let xx = x0; xx < x1; xx++) {
            const i = (yy * image.width + xx) * 3;
            r += src[i];
            g += src[i + 1];
            b += src[i + 2];
          }
        }
        const n = (x1 - x0) * (y1 - y0);
        out[o] = Math.round(r / n);
        out[o + 1] = Math.round(g / n);
        out[o + 2] = Math.round(b / n);
      } else {
        const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), image.width - 1);
        const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), image.height - 1);
        const x0 = Math.floor(fx);
        const y0 = Math.floor(fy);
        const x1 = Math.min(x0 + 1, image.width - 1);
        const y1 = Math.min(y0 + 1, image.height - 1);
        const ax = fx - x0;
        const ay = fy - y0;
        for (let c = 0; c < 3; c++) {
          const top = src[(y0 * image.width + x0) * 3 + c] * (1 - ax) + src[(y0 * image.width + x1) * 3 + c] * ax;
          const bottom = src[(y1 * image.width + x0) * 3 + c] * (1 - ax) + src[(y1 * image.width + x1) * 3 + c] * ax;
          out[o + c] = Math.round(top * (1 - ay) + bottom * ay);
        }
      }
    }
  }
  return { width, height, data: out };
}

/** Mean brightness of each channel in [0, 1]: the input statistic monitoring compares to the baseline. */
export function channelMeans(image: RgbImage): { r: number; g: number; b: number } {
  let r = 0;
  let g = 0;
  let b = 0;
  const d = image.data;
  for (let i = 0; i < d.length; i += 3) {
    r += d[i];
    g += d[i + 1];
    b += d[i + 2];
  }
  const n = (d.length / 3) * 255 || 1;
  return { r: r / n, g: g / n, b: b / n };
}

/** Encodes RGB pixels as a PNG (used by tests, fixtures and report thumbnails). */
export function encodePng(image: RgbImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}
