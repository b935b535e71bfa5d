import { deflateSync } from 'node:zlib';
import { ROW_BYTES } from './cifar-batch';

/**
 * CIFAR row → PNG, written directly: a 32x32 RGB image is small enough that a general PNG
 * encoder's setup (pngjs streams, RGBA conversion, filter heuristics) costs more than the
 * compression itself, and staging encodes thousands of them.
 */

const SIDE = 32;
const PLANE = SIDE * SIDE;
const SCANLINE = 1 + SIDE * 3;
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// IHDR: 32 x 32, 8-bit, colour type 2 (RGB), deflate, adaptive filtering, no interlace.
const IHDR_DATA = Buffer.from([0, 0, 0, SIDE, 0, 0, 0, SIDE, 8, 2, 0, 0, 0]);
const FILTER_SUB = 1;
/**
 * The filtered scanlines of the image being encoded. One buffer for every call: a fresh small
 * Buffer would come from Node's shared 8 KB pool, and a slab stays allocated while any PNG cut
 * from it lives, so an S3 stage holding 60 000 PNGs until commit would keep each one's 3 KB of
 * scratch too (+180 MB).
 */
const SCANLINES = Buffer.allocUnsafe(SIDE * SCANLINE);

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32(bytes: Uint8Array, start: number, end: number): number {
  let c = -1;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Writes one chunk (length, type, data, CRC) at `at`; returns the offset after it. */
function writeChunk(out: Buffer, at: number, type: string, data: Uint8Array): number {
  out.writeUInt32BE(data.length, at);
  out.write(type, at + 4, 'latin1');
  out.set(data, at + 8);
  out.writeUInt32BE(crc32(out, at + 4, at + 8 + data.length), at + 8 + data.length);
  return at + 12 + data.length;
}

/**
 * Encodes row `row` of a CIFAR `data` array (planar: 1024 R, 1024 G, 1024 B, each 32 rows of 32
 * pixels) as an 8-bit RGB PNG. Scanlines use the Sub filter, which suits photographs and costs
 * one subtraction per byte.
 */
export function encodeCifarRowPng(data: Uint8Array, row: number): Buffer {
  const base = row * ROW_BYTES;
  if (!Number.isInteger(row) || row < 0 || base + ROW_BYTES > data.length) {
    throw new RangeError(`row ${row} is outside the array (${Math.floor(data.length / ROW_BYTES)} rows)`);
  }
  const raw = SCANLINES; // reused: deflateSync is done with it before this returns
  for (let y = 0; y < SIDE; y++) {
    const line = y * SCANLINE;
    raw[line] = FILTER_SUB;
    let pr = 0;
    let pg = 0;
    let pb = 0;
    for (let x = 0; x < SIDE; x++) {
      const p = base + y * SIDE + x;
      const r = data[p];
      const g = data[p + PLANE];
      const b = data[p + 2 * PLANE];
      const o = line + 1 + x * 3;
      raw[o] = (r - pr) & 0xff;
      raw[o + 1] = (g - pg) & 0xff;
      raw[o + 2] = (b - pb) & 0xff;
      pr = r;
      pg = g;
      pb = b;
    }
  }
  const idat = deflateSync(raw);
  const out = Buffer.allocUnsafe(SIGNATURE.length + 12 + IHDR_DATA.length + 12 + idat.length + 12);
  SIGNATURE.copy(out, 0);
  let at = writeChunk(out, SIGNATURE.length, 'IHDR', IHDR_DATA);
  at = writeChunk(out, at, 'IDAT', idat);
  writeChunk(out, at, 'IEND', new Uint8Array(0));
  return out;
}
