import { close as closeCallback, closeSync, createReadStream, open as openCallback, openSync, read as readCallback, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

// The callback API, promisified: the same thread-pool calls as fs/promises without a FileHandle
// per call, which costs several times the CPU for the small files most objects are.
const openAsync = promisify(openCallback);
const readAsync = promisify(readCallback);
const closeAsync = promisify(closeCallback);
import type { ChecksumAlgorithm } from './checksums';

/**
 * One object is one file: a header (what S3 knows about the object) followed by its bytes. One file
 * means one rename publishes body and metadata together, so a reader never sees the body of one
 * PUT with the metadata of another.
 *
 *   "SCS3OBJ1" | uint32 BE header length | header JSON, padded with spaces | body
 *
 * The header is written first with room to spare and rewritten in place once the body's size and
 * digests are known (JSON ignores the trailing spaces), so a streamed body is written only once.
 */
const MAGIC = Buffer.from('SCS3OBJ1', 'latin1');
const PREFIX_BYTES = MAGIC.length + 4;
/** Room left in a header for the values known only after the body (size, ETag, checksum, time). */
const HEADER_SLACK = 256;
/** A header is a key (≤ 1 KiB), metadata (≤ 2 KiB) and a few fields; anything larger is damage. */
const MAX_HEADER_BYTES = 64 * 1024;
/** The first read of an object: header and, for small objects, the whole body in one call. */
export const FIRST_READ_BYTES = 64 * 1024;

export interface ObjectChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64; composite multipart checksums end in `-<parts>`. */
  value: string;
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

/** What S3 knows about an object besides its bytes. */
export interface ObjectHeader {
  key: string;
  size: number;
  /** Without quotes: hex MD5, or `<hex>-<parts>` for multipart uploads. */
  etag: string;
  /** ms since the epoch. */
  lastModified: number;
  contentType: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** `x-amz-meta-*` without the prefix, names lower-cased as HTTP delivers them. */
  metadata: Record<string, string>;
  checksum?: ObjectChecksum;
  /** Sizes of the parts of a multipart upload (GetObject `partNumber`). */
  parts?: number[];
  storageClass?: string;
  /** The `x-amz-tagging` query string given at upload. */
  tagging?: string;
}

/** The header bytes for `header`, padded to `reserve` bytes when given (which it must fit). */
export function encodeHeader(header: ObjectHeader, reserve?: number): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = reserve ?? json.length;
  if (json.length > length) throw new Error(`object header of ${json.length} bytes does not fit the ${length} bytes reserved for it`);
  const out = Buffer.alloc(PREFIX_BYTES + length, 0x20);
  MAGIC.copy(out, 0);
  out.writeUInt32BE(length, MAGIC.length);
  json.copy(out, PREFIX_BYTES);
  return out;
}

/** Header bytes reserved for a body still to be streamed: the header as it starts, plus slack. */
export function reservedHeaderLength(initial: ObjectHeader): number {
  return Buffer.byteLength(JSON.stringify(initial), 'utf8') + HEADER_SLACK;
}

export class DamagedObjectError extends Error {
  override readonly name = 'DamagedObjectError';
}

/** Parses the header at the start of `data`, or tells how many bytes are needed to do so. */
function parseHeader(data: Buffer, file: string): { header: ObjectHeader; bodyOffset: number } | { need: number } {
  if (data.length < PREFIX_BYTES) {
    if (data.length < MAGIC.length || !data.subarray(0, MAGIC.length).equals(MAGIC.subarray(0, data.length))) throw new DamagedObjectError(`${file}: not an object file of the scones S3`);
    return { need: PREFIX_BYTES };
  }
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw new DamagedObjectError(`${file}: not an object file of the scones S3`);
  const length = data.readUInt32BE(MAGIC.length);
  if (length > MAX_HEADER_BYTES) throw new DamagedObjectError(`${file}: object header claims ${length} bytes`);
  if (data.length < PREFIX_BYTES + length) return { need: PREFIX_BYTES + length };
  let header: ObjectHeader;
  try {
    header = JSON.parse(data.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + length)) as ObjectHeader;
  } catch (error) {
    throw new DamagedObjectError(`${file}: object header is not JSON (${(error as Error).message})`);
  }
  if (typeof header.key !== 'string' || typeof header.size !== 'number' || typeof header.etag !== 'string') throw new DamagedObjectError(`${file}: object header lacks key, size or etag`);
  return { header, bodyOffset: PREFIX_BYTES + length };
}

/** An open object file: its header, and the start of its body as far as the first read got. */
export interface OpenObjectFile {
  header: ObjectHeader;
  bodyOffset: number;
  /** The body bytes already read (the whole body when `head.length === header.size`). */
  head: Buffer;
  /** Body bytes `[start, end]` (inclusive) from the file; `autoClose` closes the file when the stream ends. */
  stream(start: number, end: number, autoClose: boolean): Readable;
  /** Releases the descriptor (in the background; safe to call twice). */
  close(): void;
}

/**
 * Opens an object file and reads its header and, for small objects, the whole body, in one read.
 * Larger bodies are streamed from the open descriptor. Undefined when there is no such file; the
 * caller closes it.
 */
export async function openObjectFile(file: string, firstRead = FIRST_READ_BYTES): Promise<OpenObjectFile | undefined> {
  let fd: number;
  try {
    fd = await openAsync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    closeAsync(fd).catch(() => undefined);
  };
  try {
    let buffer = Buffer.allocUnsafe(firstRead);
    let { bytesRead } = await readAsync(fd, buffer, 0, firstRead, 0);
    let parsed = parseHeader(buffer.subarray(0, bytesRead), file);
    if ('need' in parsed) {
      const need = parsed.need;
      if (bytesRead >= need || bytesRead < firstRead) throw new DamagedObjectError(`${file}: truncated object header`);
      buffer = Buffer.allocUnsafe(need);
      ({ bytesRead } = await readAsync(fd, buffer, 0, need, 0));
      parsed = parseHeader(buffer.subarray(0, bytesRead), file);
      if ('need' in parsed) throw new DamagedObjectError(`${file}: truncated object header`);
    }
    const { header, bodyOffset } = parsed;
    const available = Math.max(0, bytesRead - bodyOffset);
    const head = buffer.subarray(bodyOffset, bodyOffset + Math.min(available, header.size));
    if (available > header.size) throw new DamagedObjectError(`${file}: holds more bytes than its header's size ${header.size}`);
    const atEnd = bytesRead < buffer.length;
    if (atEnd && available < header.size) throw new DamagedObjectError(`${file}: holds ${available} bytes, its header says ${header.size} (truncated)`);
    return {
      header,
      bodyOffset,
      head,
      close,
      stream: (start, end, autoClose) => {
        if (autoClose) closed = true; // the stream owns the descriptor now
        return createReadStream('', { fd, start: bodyOffset + start, end: bodyOffset + end, autoClose });
      },
    };
  } catch (error) {
    close();
    throw error;
  }
}

const scratch = Buffer.allocUnsafe(4096);

/**
 * Only the header, read synchronously: building a bucket's index reads thousands of headers, and
 * three blocking syscalls cost about a tenth of the promise API's thread-pool round trips. The
 * caller reads in short slices and yields between them.
 */
export function readObjectHeaderSync(file: string): ObjectHeader | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const bytesRead = readSync(fd, scratch, 0, scratch.length, 0);
    let parsed = parseHeader(scratch.subarray(0, bytesRead), file);
    if ('need' in parsed) {
      if (bytesRead < scratch.length && bytesRead < parsed.need) throw new DamagedObjectError(`${file}: truncated object header`);
      const buffer = Buffer.allocUnsafe(parsed.need);
      const more = readSync(fd, buffer, 0, parsed.need, 0);
      parsed = parseHeader(buffer.subarray(0, more), file);
      if ('need' in parsed) throw new DamagedObjectError(`${file}: truncated object header`);
    }
    return parsed.header;
  } finally {
    closeSync(fd);
  }
}
