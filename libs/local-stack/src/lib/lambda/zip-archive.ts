import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

const inflateRaw = promisify(zlib.inflateRaw);

/** Lambda's limits on a .zip deployment package (AWS: 50 MB zipped upload, 250 MB unzipped). */
export const ZIP_LIMITS = {
  zippedBytes: 50 * 1024 * 1024,
  unzippedBytes: 250 * 1024 * 1024,
  /** Far more than any real package; a central directory claiming more is hostile. */
  entries: 100_000,
} as const;

/** A package the stack refuses: the message names the entry and what is wrong with it. */
export class ZipArchiveError extends Error {
  override readonly name = 'ZipArchiveError';
}

export interface ZipEntry {
  /** The entry's path inside the archive, `/`-separated; directories end with `/`. */
  name: string;
  directory: boolean;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  /** Unix permission bits when the archive was made on Unix (0 otherwise). */
  mode: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const UNIX_HOST = 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/**
 * Reads and checks an archive's central directory without inflating anything: every entry must be
 * a plain file or directory with a relative path that stays inside the package (no `..`, no
 * absolute or drive paths, no symbolic links, no duplicates), stored or deflated, not encrypted,
 * and the declared sizes must fit Lambda's limits.
 */
export function readZipDirectory(zip: Buffer, limits: { unzippedBytes: number; entries: number } = ZIP_LIMITS): ZipEntry[] {
  const signature = zip.length >= 22 ? zip.readUInt32LE(0) : 0;
  if (signature !== LOCAL_SIGNATURE && signature !== EOCD_SIGNATURE) throw new ZipArchiveError('the file is not a .zip archive (no zip signature at its start)');
  const eocd = findEndOfCentralDirectory(zip);
  let count = zip.readUInt16LE(eocd + 10);
  let size = zip.readUInt32LE(eocd + 12);
  let offset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || zip.readUInt32LE(locator) !== ZIP64_LOCATOR_SIGNATURE) throw new ZipArchiveError('the archive is damaged: a zip64 end of central directory is announced but missing');
    const record = safeNumber(zip.readBigUInt64LE(locator + 8), 'zip64 record offset');
    if (record + 56 > zip.length || zip.readUInt32LE(record) !== ZIP64_EOCD_SIGNATURE) throw new ZipArchiveError('the archive is damaged: bad zip64 end of central directory');
    count = safeNumber(zip.readBigUInt64LE(record + 32), 'entry count');
    size = safeNumber(zip.readBigUInt64LE(record + 40), 'central directory size');
    offset = safeNumber(zip.readBigUInt64LE(record + 48), 'central directory offset');
  }
  if (count > limits.entries) throw new ZipArchiveError(`the archive declares ${count} entries; the limit is ${limits.entries}`);
  if (offset + size > zip.length) throw new ZipArchiveError('the archive is damaged: its central directory lies outside the file (truncated upload?)');

  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new ZipArchiveError(`the archive is damaged: central directory entry ${i + 1} of ${count} is unreadable`);
    const madeBy = zip.readUInt16LE(at + 4);
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const crc32 = zip.readUInt32LE(at + 16);
    let compressedSize = zip.readUInt32LE(at + 20);
    let uncompressedSize = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const external = zip.readUInt32LE(at + 38);
    let localHeaderOffset = zip.readUInt32LE(at + 42);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > zip.length) throw new ZipArchiveError(`the archive is damaged: central directory entry ${i + 1} runs past the end of the file`);
    const rawName = zip.subarray(at + 46, at + 46 + nameLength);
    const name = rawName.toString('utf8');
    const extra = zip.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength);
    if (uncompressedSize === 0xffffffff || compressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) {
      const zip64 = readZip64Extra(extra, name, { uncompressed: uncompressedSize === 0xffffffff, compressed: compressedSize === 0xffffffff, offset: localHeaderOffset === 0xffffffff });
      uncompressedSize = zip64.uncompressed ?? uncompressedSize;
      compressedSize = zip64.compressed ?? compressedSize;
      localHeaderOffset = zip64.offset ?? localHeaderOffset;
    }
    at = end;

    checkEntryName(name);
    const unixMode = madeBy >> 8 === UNIX_HOST ? external >>> 16 : 0;
    if ((unixMode & S_IFMT) === S_IFLNK) throw new ZipArchiveError(`entry "${name}" is a symbolic link; the local stack accepts only regular files and directories in a package`);
    if (flags & 0x1) throw new ZipArchiveError(`entry "${name}" is encrypted; Lambda packages cannot be encrypted`);
    const directory = name.endsWith('/');
    if (!directory && method !== 0 && method !== 8) throw new ZipArchiveError(`entry "${name}" uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    const key = directory ? name.slice(0, -1) : name;
    if (seen.has(key)) throw new ZipArchiveError(`entry "${name}" appears more than once in the archive`);
    seen.add(key);
    total += directory ? 0 : uncompressedSize;
    if (total > limits.unzippedBytes) throw new ZipArchiveError(`Unzipped size must be smaller than ${limits.unzippedBytes} bytes (the entries declare more, at "${name}")`);
    entries.push({ name, directory, method, compressedSize, uncompressedSize, crc32, mode: unixMode & 0o7777, localHeaderOffset });
  }
  return entries;
}

/** The total unzipped size the entries declare. */
export function unzippedSize(entries: readonly ZipEntry[]): number {
  return entries.reduce((sum, e) => sum + (e.directory ? 0 : e.uncompressedSize), 0);
}

/**
 * Extracts a checked archive (see {@link readZipDirectory}) into `target`, which must not exist:
 * everything is written under a temporary name beside it and renamed at the end, so `target` is
 * either complete or absent. Each entry is inflated with its declared size as the output limit (an
 * entry that inflates to more is a zip bomb and refused) and its CRC-32 checked.
 */
export async function extractZip(zip: Buffer, entries: readonly ZipEntry[], target: string): Promise<void> {
  const staging = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await mkdir(staging, { recursive: true });
  try {
    for (const entry of entries) {
      const path = join(staging, ...entry.name.split('/').filter(Boolean));
      if (entry.directory) {
        await mkdir(path, { recursive: true });
        continue;
      }
      const data = await entryData(zip, entry);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, data, { flag: 'wx' });
      // Keep an executable bit (scripts, native binaries); everything readable as on Lambda.
      await chmod(path, entry.mode & 0o111 ? 0o755 : 0o644);
    }
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (error instanceof ZipArchiveError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') throw new ZipArchiveError(`the archive has a file and a directory at the same path (${(error as Error).message})`);
    throw error;
  }
}

/** The inflated bytes of one entry. */
export async function entryData(zip: Buffer, entry: ZipEntry): Promise<Buffer> {
  const at = entry.localHeaderOffset;
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== LOCAL_SIGNATURE) throw new ZipArchiveError(`entry "${entry.name}": its local header is missing (damaged archive)`);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  if (start + entry.compressedSize > zip.length) throw new ZipArchiveError(`entry "${entry.name}" runs past the end of the archive (truncated upload?)`);
  const raw = zip.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (entry.method === 0) {
    data = raw;
  } else {
    try {
      // One byte of headroom: an entry that inflates past its declared size fails here, before
      // the extra output is ever allocated.
      data = await inflateRaw(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize + 1) });
    } catch (error) {
      const message = (error as Error).message;
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || /larger than|maxOutputLength/i.test(message)) {
        throw new ZipArchiveError(`entry "${entry.name}" inflates to more than the ${entry.uncompressedSize} bytes it declares (zip bomb?)`);
      }
      throw new ZipArchiveError(`entry "${entry.name}" cannot be inflated: ${message}`);
    }
  }
  if (data.length !== entry.uncompressedSize) throw new ZipArchiveError(`entry "${entry.name}" inflates to ${data.length} bytes but declares ${entry.uncompressedSize}`);
  const crc = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
  if (crc && crc(data) >>> 0 !== entry.crc32 >>> 0) throw new ZipArchiveError(`entry "${entry.name}" fails its CRC-32 check (damaged archive)`);
  return data;
}

function checkEntryName(name: string): void {
  if (name.length === 0) throw new ZipArchiveError('the archive has an entry with an empty name');
  if (name.includes('\0')) throw new ZipArchiveError(`entry ${JSON.stringify(name)} has a NUL character in its name`);
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name)) throw new ZipArchiveError(`entry "${name}" has an absolute path; package paths must be relative`);
  const segments = name.split(/[/\\]/);
  if (segments.some((s) => s === '..')) throw new ZipArchiveError(`entry "${name}" points outside the package ("..")`);
}

function findEndOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const earliest = Math.max(0, zip.length - 22 - 0xffff);
  for (let at = zip.length - 22; at >= earliest; at--) {
    if (zip.readUInt32LE(at) === EOCD_SIGNATURE && at + 22 + zip.readUInt16LE(at + 20) <= zip.length) return at;
  }
  throw new ZipArchiveError('the file is not a complete .zip archive (no end of central directory record; truncated upload?)');
}

function readZip64Extra(extra: Buffer, name: string, wanted: { uncompressed: boolean; compressed: boolean; offset: boolean }): { uncompressed?: number; compressed?: number; offset?: number } {
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    if (id === 0x0001) {
      let field = at + 4;
      const next = () => {
        if (field + 8 > at + 4 + length) throw new ZipArchiveError(`entry "${name}": its zip64 extra field is too short`);
        const value = safeNumber(extra.readBigUInt64LE(field), `entry "${name}" size`);
        field += 8;
        return value;
      };
      return {
        uncompressed: wanted.uncompressed ? next() : undefined,
        compressed: wanted.compressed ? next() : undefined,
        offset: wanted.offset ? next() : undefined,
      };
    }
    at += 4 + length;
  }
  throw new ZipArchiveError(`entry "${name}" declares zip64 sizes but has no zip64 extra field`);
}

function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipArchiveError(`the archive's ${what} is impossibly large`);
  return Number(value);
}
