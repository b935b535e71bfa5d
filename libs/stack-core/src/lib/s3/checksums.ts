import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';

/** The additional checksums S3 stores (`x-amz-checksum-<algorithm>`), as S3 names them. */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** Raw digest sizes, to check a client's base64 value before comparing it. */
export const CHECKSUM_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

export function parseChecksumAlgorithm(value: string): ChecksumAlgorithm | undefined {
  const upper = value.toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper) ? (upper as ChecksumAlgorithm) : undefined;
}

export interface Hasher {
  update(data: Uint8Array): void;
  digest(): Buffer;
}

export function createChecksum(algorithm: ChecksumAlgorithm): Hasher {
  switch (algorithm) {
    case 'CRC32':
      return crc32Hasher();
    case 'CRC32C':
      return tableCrc32Hasher(CRC32C_TABLE);
    case 'CRC64NVME':
      return crc64NvmeHasher();
    case 'SHA1':
      return createHash('sha1');
    case 'SHA256':
      return createHash('sha256');
  }
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}

function crc32Table(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CRC32_TABLE = crc32Table(0xedb88320);
const CRC32C_TABLE = crc32Table(0x82f63b78);

// zlib.crc32 (native) exists from Node 20.15 / 22.2; the table version covers older 20.x.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

function crc32Hasher(): Hasher {
  if (!nativeCrc32) return tableCrc32Hasher(CRC32_TABLE);
  let value = 0;
  return {
    update: (data) => {
      value = nativeCrc32(data, value);
    },
    digest: () => uint32(value),
  };
}

function tableCrc32Hasher(table: Uint32Array): Hasher {
  let crc = 0xffffffff;
  return {
    update: (data) => {
      for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
    },
    digest: () => uint32(crc ^ 0xffffffff),
  };
}

// CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5), held as two 32-bit halves.
const CRC64_HI = new Uint32Array(256);
const CRC64_LO = new Uint32Array(256);
(() => {
  const polyHi = 0x9a6c9329;
  const polyLo = 0xac4bc9b5;
  for (let n = 0; n < 256; n++) {
    let hi = 0;
    let lo = n;
    for (let k = 0; k < 8; k++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        hi = (hi ^ polyHi) >>> 0;
        lo = (lo ^ polyLo) >>> 0;
      }
    }
    CRC64_HI[n] = hi;
    CRC64_LO[n] = lo;
  }
})();

function crc64NvmeHasher(): Hasher {
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  return {
    update: (data) => {
      for (let i = 0; i < data.length; i++) {
        const index = (lo ^ data[i]) & 0xff;
        lo = (((lo >>> 8) | (hi << 24)) ^ CRC64_LO[index]) >>> 0;
        hi = ((hi >>> 8) ^ CRC64_HI[index]) >>> 0;
      }
    },
    digest: () => {
      const out = Buffer.alloc(8);
      out.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0);
      out.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4);
      return out;
    },
  };
}

/** Whether `value` is a well-formed base64 checksum of `algorithm` (right length, right alphabet). */
export function isChecksumValue(algorithm: ChecksumAlgorithm, value: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return false;
  return Buffer.from(value, 'base64').length === CHECKSUM_BYTES[algorithm] && value.length === Math.ceil(CHECKSUM_BYTES[algorithm] / 3) * 4;
}
