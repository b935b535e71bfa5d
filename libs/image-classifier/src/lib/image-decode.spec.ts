import { crc32, deflateSync } from 'node:zlib';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { ImageDecodeError } from '../errors';
import { channelMeans, decodeImage, encodePng, readImageHeader, resizeImage, sniffImageFormat, type RgbImage } from './image-decode';

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

/** A PNG from its parts: IHDR fields, then the raw (already deflated) IDAT stream. */
function rawPng(ihdr: { width: number; height: number; bitDepth?: number; colourType?: number; interlace?: number }, idat: Buffer): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(ihdr.width, 0);
  header.writeUInt32BE(ihdr.height, 4);
  header.set([ihdr.bitDepth ?? 8, ihdr.colourType ?? 2, 0, 0, ihdr.interlace ?? 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** Memory the decoder allocated outside the JS heap (Buffers), in MB, while `work` ran. */
function externalGrowthMb(work: () => void): number {
  const before = process.memoryUsage().arrayBuffers;
  try {
    work();
  } catch {
    /* the caller checks the error separately */
  }
  return (process.memoryUsage().arrayBuffers - before) / 2 ** 20;
}

describe('hostile images', () => {
  it('refuses a PNG whose header claims 20000x20000 pixels from the header, allocating nothing (issue 17.1)', () => {
    // The 68-byte file of the issue: IHDR 20000x20000 RGB, IDAT of 10 zero bytes.
    const bomb = rawPng({ width: 20000, height: 20000 }, deflateSync(Buffer.alloc(10)));
    expect(bomb.length).toBe(68);
    expect(readImageHeader(bomb)).toEqual({ format: 'png', width: 20000, height: 20000 });
    expect(() => decodeImage(bomb)).toThrow(new ImageDecodeError('PNG too large: its header declares 20000x20000 pixels, the limit is 4096x4096'));
    expect(externalGrowthMb(() => decodeImage(bomb))).toBeLessThan(50);
  });

  it('refuses a JPEG whose frame header claims more than 4096x4096 before decoding', () => {
    const jpeg = Buffer.from(encodeJpeg({ data: Buffer.alloc(8 * 8 * 4, 90), width: 8, height: 8 }, 90).data);
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    jpeg.writeUInt16BE(20000, sof + 5);
    jpeg.writeUInt16BE(20000, sof + 7);
    expect(readImageHeader(jpeg)).toEqual({ format: 'jpeg', width: 20000, height: 20000 });
    expect(() => decodeImage(jpeg)).toThrow(new ImageDecodeError('JPEG too large: its header declares 20000x20000 pixels, the limit is 4096x4096'));
    expect(() => decodeImage(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toThrow('cannot decode JPEG: no frame header (SOF) before the image data');
  });

  it('refuses an interlaced PNG whose small header hides image data that inflates to 64 MB', () => {
    // 32x32 RGB interlaced is 3 132 bytes of filtered rows (7 Adam7 passes); this IDAT inflates to 64 MB of zeros.
    const bomb = rawPng({ width: 32, height: 32, interlace: 1 }, deflateSync(Buffer.alloc(64 * 2 ** 20), { level: 9 }));
    expect(bomb.length).toBeLessThan(100_000);
    expect(() => decodeImage(bomb)).toThrow(new ImageDecodeError('cannot decode PNG: its image data inflates beyond the 3132 bytes its 32x32 header implies'));
    expect(externalGrowthMb(() => decodeImage(bomb))).toBeLessThan(50);
  });

  it('still decodes interlaced PNGs and non-interlaced ones with trailing image data within the header size', () => {
    const pixels = gradient(5, 3).data;
    const rows = (interlaced: boolean) => {
      if (!interlaced) return Buffer.concat(Array.from({ length: 3 }, (_, y) => Buffer.concat([Buffer.from([0]), Buffer.from(pixels.subarray(y * 15, y * 15 + 15))])));
      // Adam7 passes of a 5x3 image, each row with filter byte 0.
      const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
      const out: number[] = [];
      for (const [x0, y0, dx, dy] of passes) {
        for (let y = y0; y < 3; y += dy) {
          const row: number[] = [];
          for (let x = x0; x < 5; x += dx) row.push(...pixels.subarray((y * 5 + x) * 3, (y * 5 + x) * 3 + 3));
          if (row.length) out.push(0, ...row);
        }
      }
      return Buffer.from(out);
    };
    for (const interlaced of [false, true]) {
      const decoded = decodeImage(rawPng({ width: 5, height: 3, interlace: interlaced ? 1 : 0 }, deflateSync(rows(interlaced))));
      expect(Buffer.from(decoded.data)).toEqual(Buffer.from(pixels));
    }
  });

  it('names what is wrong in a broken PNG header', () => {
    expect(() => decodeImage(rawPng({ width: 0, height: 5 }, deflateSync(Buffer.alloc(1))))).toThrow('cannot decode PNG: its header declares 0x5 pixels');
    expect(() => decodeImage(rawPng({ width: 4, height: 4, bitDepth: 3 }, deflateSync(Buffer.alloc(1))))).toThrow('cannot decode PNG: bit depth 3 is not allowed for colour type 2');
    expect(() => decodeImage(encodePng(gradient(4, 4)).subarray(0, 20))).toThrow('cannot decode PNG: 20 bytes is too short for the IHDR chunk');
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

describe('the common PNG path (8-bit grey, grey+alpha, RGB, RGBA)', () => {
  /** What pngjs makes of the same bytes, as RGB: the reference the fast path must match exactly. */
  const reference = (bytes: Buffer): RgbImage => {
    const png = PNG.sync.read(bytes);
    const data = new Uint8Array(png.width * png.height * 3);
    for (let i = 0; i < png.width * png.height; i++) data.set(png.data.subarray(i * 4, i * 4 + 3), i * 3);
    return { width: png.width, height: png.height, data };
  };
  const noise = (width: number, height: number, seed: number) => {
    const data = Buffer.alloc(width * height * 4);
    let state = seed;
    for (let i = 0; i < data.length; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      // Smooth areas and noise, so every filter type has work to do.
      data[i] = i % 7 === 0 ? (state >>> 24) & 0xff : (i * 3) & 0xff;
    }
    return data;
  };

  it('decodes every colour type with every scanline filter exactly as pngjs does', () => {
    const colourTypes = [0, 2, 4, 6] as const;
    for (const colorType of colourTypes) {
      for (const filterType of [0, 1, 2, 3, 4, -1]) {
        for (const [width, height] of [[1, 1], [7, 5], [33, 17]]) {
          const png = new PNG({ width, height });
          png.data = noise(width, height, width * 31 + height + filterType + colorType);
          const bytes = PNG.sync.write(png, { colorType, filterType, inputHasAlpha: true });
          expect({ colorType, filterType, width, image: decodeImage(bytes) }).toEqual({ colorType, filterType, width, image: reference(bytes) });
        }
      }
    }
  });

  it('refuses a corrupt chunk, an unknown filter type and a file without IEND, naming the problem', () => {
    const good = encodePng(gradient(8, 8));
    const flipped = Buffer.from(good);
    flipped[good.length - 20] ^= 0xff; // inside the IDAT data: its CRC no longer matches
    expect(() => decodeImage(flipped)).toThrow(/^cannot decode PNG: chunk "IDAT" at byte \d+ fails its CRC check/);
    const rows = Buffer.concat(Array.from({ length: 2 }, () => Buffer.from([7, 1, 2, 3, 4, 5, 6])));
    expect(() => decodeImage(rawPng({ width: 2, height: 2 }, deflateSync(rows)))).toThrow('cannot decode PNG: row 0 has filter type 7 (0-4 exist)');
    const noEnd = rawPng({ width: 2, height: 2 }, deflateSync(Buffer.from([0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6]))).subarray(0, -12);
    expect(() => decodeImage(noEnd)).toThrow('cannot decode PNG: the file ends before its IEND chunk (truncated)');
    const short = rawPng({ width: 2, height: 2 }, deflateSync(Buffer.from([0, 1, 2, 3, 4, 5, 6])));
    expect(() => decodeImage(short)).toThrow('cannot decode PNG: its image data inflates to 7 bytes, its 2x2 header implies 14');
  });
});
