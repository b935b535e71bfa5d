import { createHash } from 'node:crypto';
import { writeFile as writeFileCallback } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createChecksum, type ChecksumAlgorithm, type Hasher } from './checksums';
import { encodeHeader, reservedHeaderLength, type ObjectHeader } from './object-file';
import { s3Errors } from './s3-errors';

/** Bodies up to this size are gathered in memory and written with one call (staging's PNGs). */
const IN_MEMORY_BYTES = 1024 * 1024;
/** The callback API (no FileHandle per call): the small-object path runs once per PUT. */
const writeFile = promisify(writeFileCallback);
/** Larger bodies are written in pieces of about this size. */
const WRITE_BYTES = 1024 * 1024;

export interface BodySource {
  /** The payload (already decoded from aws-chunked). */
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** How many bytes the client said it sends: fewer or more is refused. */
  length: number;
}

/** What was learned while receiving a body. */
export interface ReceivedBody {
  size: number;
  md5: Buffer;
  checksums: Map<ChecksumAlgorithm, Buffer>;
}

/**
 * Writes an object file (header + body) to `file` (a temporary name; the caller renames it into
 * place), hashing the body as it goes: MD5 for the ETag and the requested `algorithms`.
 * `finish` turns what was received into the final header, and may refuse it (a digest that does not
 * match) by throwing; on any failure the file is removed, so nothing partial remains.
 */
export async function writeObjectFile(
  file: string,
  initial: ObjectHeader,
  body: BodySource,
  algorithms: readonly ChecksumAlgorithm[],
  finish: (received: ReceivedBody) => ObjectHeader,
): Promise<ObjectHeader> {
  const md5 = createHash('md5');
  const hashers = new Map<ChecksumAlgorithm, Hasher>(algorithms.map((a) => [a, createChecksum(a)]));
  let size = 0;
  const take = (chunk: Uint8Array) => {
    size += chunk.length;
    if (size > body.length) throw new SizeMismatch(`the body is longer than the ${body.length} bytes declared`);
    md5.update(chunk);
    for (const hasher of hashers.values()) hasher.update(chunk);
  };
  const received = (): ReceivedBody => {
    if (size !== body.length) throw s3Errors.incompleteBody(body.length, size);
    return { size, md5: md5.digest(), checksums: new Map([...hashers].map(([a, h]) => [a, h.digest()])) };
  };
  try {
    if (body.length <= IN_MEMORY_BYTES) {
      const parts: Uint8Array[] = [];
      for await (const chunk of body.chunks) {
        take(chunk);
        parts.push(chunk);
      }
      const header = finish(received());
      await writeFile(file, Buffer.concat([encodeHeader(header), ...parts]));
      return header;
    }
    const reserve = reservedHeaderLength(initial);
    const handle = await open(file, 'w');
    try {
      const headerBytes = encodeHeader(initial, reserve).length;
      await handle.write(encodeHeader(initial, reserve), 0, headerBytes, 0);
      let position = headerBytes;
      let batch: Uint8Array[] = [];
      let batched = 0;
      const flush = async () => {
        if (!batched) return;
        const data = batch.length === 1 ? batch[0] : Buffer.concat(batch, batched);
        await handle.write(data, 0, data.length, position);
        position += data.length;
        batch = [];
        batched = 0;
      };
      for await (const chunk of body.chunks) {
        take(chunk);
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= WRITE_BYTES) await flush();
      }
      await flush();
      const header = finish(received());
      await handle.write(encodeHeader(header, reserve), 0, headerBytes, 0);
      return header;
    } finally {
      await handle.close();
    }
  } catch (error) {
    await rm(file, { force: true });
    if (error instanceof SizeMismatch) throw s3Errors.invalidRequest(error.message);
    throw error;
  }
}

class SizeMismatch extends Error {}

/** The base64 digest `algorithm` computed over a received body (asked for when writing it). */
export function receivedChecksum(received: ReceivedBody, algorithm: ChecksumAlgorithm): string {
  const digest = received.checksums.get(algorithm);
  if (!digest) throw new Error(`no ${algorithm} was computed for this body`);
  return digest.toString('base64');
}
