import * as zlib from 'node:zlib';
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

// Refuses decompression bombs: 4096 x 4096 is far above anything this model needs. Checked from the
// header (PNG IHDR, JPEG SOF) before anything is decoded or allocated.
const MAX_PIXELS = 4096 * 4096;
const MAX_SIDE = 4096;

/** Width and height as the image's header declares them. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
// Channels per pixel and the bit depths PNG allows for each colour type (PNG spec 11.2.2).
const PNG_COLOUR_TYPES: Record<number, { channels: number; depths: number[] }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16] },
  2: { channels: 3, depths: [8, 16] },
  3: { channels: 1, depths: [1, 2, 4, 8] },
  4: { channels: 2, depths: [8, 16] },
  6: { channels: 4, depths: [8, 16] },
};
// Adam7 passes: x start, y start, x step, y step.
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

interface PngHeader extends ImageHeader {
  bitDepth: number;
  colourType: number;
  interlaced: boolean;
}

function readPngHeader(bytes: Uint8Array): PngHeader {
  if (!PNG_SIGNATURE.every((b, i) => bytes[i] === b)) throw new ImageDecodeError('cannot decode PNG: bad signature');
  if (bytes.length < 33) throw new ImageDecodeError(`cannot decode PNG: ${bytes.length} bytes is too short for the IHDR chunk`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(...bytes.subarray(12, 16));
  if (type !== 'IHDR' || view.getUint32(8) !== 13) throw new ImageDecodeError(`cannot decode PNG: the first chunk is ${JSON.stringify(type)} of ${view.getUint32(8)} bytes, expected IHDR of 13`);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const bitDepth = bytes[24];
  const colourType = bytes[25];
  const interlace = bytes[28];
  const colour = PNG_COLOUR_TYPES[colourType];
  if (!colour) throw new ImageDecodeError(`cannot decode PNG: unknown colour type ${colourType}`);
  if (!colour.depths.includes(bitDepth)) throw new ImageDecodeError(`cannot decode PNG: bit depth ${bitDepth} is not allowed for colour type ${colourType}`);
  if (interlace > 1) throw new ImageDecodeError(`cannot decode PNG: unknown interlace method ${interlace}`);
  return { format: 'png', width, height, bitDepth, colourType, interlaced: interlace === 1 };
}

/** Bytes the IDAT stream inflates to for this header (filter byte + packed pixels per row, per Adam7 pass when interlaced). */
function pngInflatedSize({ width, height, bitDepth, colourType, interlaced }: PngHeader): number {
  const bitsPerPixel = PNG_COLOUR_TYPES[colourType].channels * bitDepth;
  const passBytes = (w: number, h: number) => (w === 0 || h === 0 ? 0 : h * (Math.ceil((w * bitsPerPixel) / 8) + 1));
  if (!interlaced) return passBytes(width, height);
  return ADAM7.reduce((sum, [x0, y0, dx, dy]) => sum + passBytes(Math.ceil(Math.max(0, width - x0) / dx), Math.ceil(Math.max(0, height - y0) / dy)), 0);
}

/** The IDAT chunks' data, concatenated (chunk lengths checked against the buffer). */
function pngImageData(bytes: Uint8Array): Buffer {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  for (let offset = 8; offset + 8 <= bytes.length; ) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const end = offset + 12 + length;
    if (end > bytes.length) throw new ImageDecodeError(`cannot decode PNG: chunk ${JSON.stringify(type)} of ${length} bytes runs past the end of the ${bytes.length}-byte file`);
    if (type === 'IDAT') parts.push(bytes.subarray(offset + 8, offset + 8 + length));
    if (type === 'IEND') break;
    offset = end;
  }
  return Buffer.concat(parts);
}

// JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic...): not C4 (DHT), C8, CC (DAC).
const JPEG_SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function readJpegHeader(bytes: Uint8Array): ImageHeader {
  // Segments from SOI: FF xx, then a 2-byte length that includes itself; the frame size is in SOF.
  for (let offset = 2; offset + 4 <= bytes.length; ) {
    if (bytes[offset] !== 0xff) throw new ImageDecodeError(`cannot decode JPEG: expected a marker at byte ${offset}`);
    const marker = bytes[offset + 1];
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2; // markers without a length
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break; // start of scan / end of image before any frame
    const length = (bytes[offset + 2] << 8) | bytes[offset + 3];
    if (JPEG_SOF.has(marker)) {
      if (length < 8 || offset + 9 > bytes.length) throw new ImageDecodeError('cannot decode JPEG: truncated frame header');
      const height = (bytes[offset + 5] << 8) | bytes[offset + 6];
      const width = (bytes[offset + 7] << 8) | bytes[offset + 8];
      return { format: 'jpeg', width, height };
    }
    if (length < 2) throw new ImageDecodeError(`cannot decode JPEG: segment length ${length} at byte ${offset}`);
    offset += 2 + length;
  }
  throw new ImageDecodeError('cannot decode JPEG: no frame header (SOF) before the image data');
}

/**
 * The format and size an image declares in its header (PNG IHDR, JPEG SOF), read without decoding
 * anything. Throws {@link ImageDecodeError} for what is not a PNG or JPEG or has a broken header.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  const format = sniffImageFormat(bytes);
  if (!format) throw new ImageDecodeError(`not a PNG or JPEG image (${bytes.length} bytes, starts with ${Buffer.from(bytes.subarray(0, 4)).toString('hex') || 'nothing'})`);
  const { width, height } = format === 'png' ? readPngHeader(bytes) : readJpegHeader(bytes);
  return { format, width, height };
}

function checkSize({ format, width, height }: ImageHeader): void {
  if (width === 0 || height === 0) throw new ImageDecodeError(`cannot decode ${format.toUpperCase()}: its header declares ${width}x${height} pixels`);
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    throw new ImageDecodeError(`${format.toUpperCase()} too large: its header declares ${width}x${height} pixels, the limit is ${MAX_SIDE}x${MAX_SIDE}`);
  }
}

// zlib.crc32 is in Node.js from 20.15 and 22.2; without it every PNG takes the pngjs path.
const crc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

/**
 * The common PNG of a request (8-bit grey, grey+alpha, RGB or RGBA, not interlaced, only IHDR,
 * IDAT, IEND and ancillary chunks) decoded straight to RGB: every chunk's CRC checked, the image
 * data inflated by Node's zlib with the header's size as the cap, the scanline filters undone in
 * place. pngjs spends 3–4× as long on a 32×32 image (its stream machinery and an RGBA copy), which
 * was a fifth of the endpoint's own cost per request. Anything else returns undefined: pngjs decodes
 * it, as it did every PNG before.
 */
function decodeCommonPng(bytes: Uint8Array, header: PngHeader): RgbImage | undefined {
  const channels = PNG_COLOUR_TYPES[header.colourType].channels;
  if (!crc32 || header.bitDepth !== 8 || header.interlaced || header.colourType === 3) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  let ended = false;
  for (let offset = 8; offset + 12 <= bytes.length && !ended; ) {
    const length = view.getUint32(offset);
    const end = offset + 12 + length;
    const type = String.fromCharCode(bytes[offset + 4], bytes[offset + 5], bytes[offset + 6], bytes[offset + 7]);
    if (end > bytes.length) throw new ImageDecodeError(`cannot decode PNG: chunk ${JSON.stringify(type)} of ${length} bytes runs past the end of the ${bytes.length}-byte file`);
    const critical = (bytes[offset + 4] & 0x20) === 0;
    if (critical && type !== 'IHDR' && type !== 'IDAT' && type !== 'IEND') return undefined; // PLTE or unknown: pngjs decides
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) >>> 0 !== view.getUint32(offset + 8 + length)) {
      throw new ImageDecodeError(`cannot decode PNG: chunk ${JSON.stringify(type)} at byte ${offset} fails its CRC check (the file is corrupt)`);
    }
    if (type === 'IDAT') parts.push(bytes.subarray(offset + 8, offset + 8 + length));
    ended = type === 'IEND';
    offset = end;
  }
  if (!ended) throw new ImageDecodeError('cannot decode PNG: the file ends before its IEND chunk (truncated)');
  const expected = pngInflatedSize(header);
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(parts.length === 1 ? parts[0] : Buffer.concat(parts), { maxOutputLength: expected });
  } catch (error) {
    // More data than the rows need: pngjs reads the rows and ignores the rest, within the same cap.
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return undefined;
    throw new ImageDecodeError(`cannot decode PNG: its image data does not inflate (${(error as Error).message})`);
  }
  if (raw.length !== expected) throw new ImageDecodeError(`cannot decode PNG: its image data inflates to ${raw.length} bytes, its ${header.width}x${header.height} header implies ${expected}`);
  const { width, height } = header;
  const stride = width * channels;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1;
    const previous = row - stride - 1; // the unfiltered row above (only read when y > 0)
    const filter = raw[row - 1];
    switch (filter) {
      case 0:
        break;
      case 1: // Sub
        for (let i = channels; i < stride; i++) raw[row + i] = (raw[row + i] + raw[row + i - channels]) & 0xff;
        break;
      case 2: // Up
        if (y > 0) for (let i = 0; i < stride; i++) raw[row + i] = (raw[row + i] + raw[previous + i]) & 0xff;
        break;
      case 3: // Average
        for (let i = 0; i < stride; i++) {
          const left = i >= channels ? raw[row + i - channels] : 0;
          const up = y > 0 ? raw[previous + i] : 0;
          raw[row + i] = (raw[row + i] + ((left + up) >> 1)) & 0xff;
        }
        break;
      case 4: // Paeth
        for (let i = 0; i < stride; i++) {
          const a = i >= channels ? raw[row + i - channels] : 0;
          const b = y > 0 ? raw[previous + i] : 0;
          const c = i >= channels && y > 0 ? raw[previous + i - channels] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          raw[row + i] = (raw[row + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
        }
        break;
      default:
        throw new ImageDecodeError(`cannot decode PNG: row ${y} has filter type ${filter} (0-4 exist)`);
    }
    const target = y * width * 3;
    if (channels >= 3) {
      for (let x = 0; x < width; x++) {
        out[target + x * 3] = raw[row + x * channels];
        out[target + x * 3 + 1] = raw[row + x * channels + 1];
        out[target + x * 3 + 2] = raw[row + x * channels + 2];
      }
    } else {
      for (let x = 0; x < width; x++) out[target + x * 3] = out[target + x * 3 + 1] = out[target + x * 3 + 2] = raw[row + x * channels];
    }
  }
  return { width, height, data: out };
}

function decodePng(bytes: Uint8Array): RgbImage {
  const header = readPngHeader(bytes);
  checkSize(header);
  const common = decodeCommonPng(bytes, header);
  if (common) return common;
  const expected = pngInflatedSize(header);
  // pngjs bounds the inflated size of non-interlaced images by the header, but inflates interlaced
  // ones without a limit: a small header over a huge IDAT stream would allocate it all. Inflating
  // once with a cap proves the stream stays within what the header says.
  if (header.interlaced) {
    try {
      zlib.inflateSync(pngImageData(bytes), { maxOutputLength: expected });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new ImageDecodeError(`cannot decode PNG: its image data inflates beyond the ${expected} bytes its ${header.width}x${header.height} header implies`);
      }
      throw error;
    }
  }
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { width: png.width, height: png.height, data: rgbaToRgb(png.data, png.width * png.height) };
}

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
 * Decodes PNG (any colour type / bit depth) or JPEG bytes to 8-bit RGB. Alpha is dropped. The size
 * the header declares is checked first (at most 4096x4096), and a PNG's image data may not inflate
 * beyond what its header implies, so hostile files cost neither time nor memory. Throws
 * {@link ImageDecodeError} naming the problem for anything else.
 */
export function decodeImage(bytes: Uint8Array): RgbImage {
  const format = sniffImageFormat(bytes);
  if (!format) throw new ImageDecodeError(`not a PNG or JPEG image (${bytes.length} bytes, starts with ${Buffer.from(bytes.subarray(0, 4)).toString('hex') || 'nothing'})`);
  try {
    if (format === 'png') return decodePng(bytes);
    checkSize(readJpegHeader(bytes));
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
