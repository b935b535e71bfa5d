import { AwsError } from '../aws-error';

/** A chunk header line longer than this is not aws-chunked (`<hex>;chunk-signature=<64 hex>` is ~90). */
const MAX_LINE_BYTES = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;

export interface AwsChunkedBody {
  /** The decoded payload. */
  chunks: AsyncGenerator<Buffer>;
  /** Trailing headers (`x-amz-checksum-crc32: …`), lower-cased names; complete once `chunks` is done. */
  trailers: Map<string, string>;
}

function malformed(detail: string): AwsError {
  return new AwsError('InvalidRequest', `the aws-chunked request body is malformed: ${detail}`, 400);
}

/**
 * Decodes an `aws-chunked` body (SigV4 streaming uploads): `<hex size>[;chunk-signature=…]\r\n<data>\r\n`
 * repeated, a zero-size chunk, then optional trailer lines (`x-amz-checksum-crc32:…`) and an empty
 * line. Covers both `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (signed chunks) and
 * `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (what the JS SDK v3 and boto3 send for streams). Chunk
 * signatures are not verified, as no signature is on this loopback stack.
 */
export function decodeAwsChunked(source: AsyncIterable<Buffer>): AwsChunkedBody {
  const trailers = new Map<string, string>();
  async function* chunks(): AsyncGenerator<Buffer> {
    let pending: Buffer = Buffer.alloc(0);
    let state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
    let remaining = 0;
    let trailerBytes = 0;
    const takeLine = (): string | undefined => {
      const end = pending.indexOf('\r\n');
      if (end === -1) {
        if (pending.length > MAX_LINE_BYTES) throw malformed(`a line of more than ${MAX_LINE_BYTES} bytes without CRLF`);
        return undefined;
      }
      const line = pending.toString('latin1', 0, end);
      pending = pending.subarray(end + 2);
      return line;
    };
    for await (const input of source) {
      pending = pending.length ? Buffer.concat([pending, input]) : input;
      while (pending.length) {
        if (state === 'data') {
          const take = Math.min(remaining, pending.length);
          const piece = pending.subarray(0, take);
          pending = pending.subarray(take);
          remaining -= take;
          if (remaining === 0) state = 'data-end';
          yield piece;
          continue;
        }
        if (state === 'data-end') {
          if (pending.length < 2) break;
          if (pending[0] !== 0x0d || pending[1] !== 0x0a) throw malformed('chunk data is not followed by CRLF (chunk size wrong?)');
          pending = pending.subarray(2);
          state = 'size';
          continue;
        }
        if (state === 'done') throw malformed('data after the final chunk');
        const line = takeLine();
        if (line === undefined) break;
        if (state === 'size') {
          const match = /^([0-9a-fA-F]{1,16})(;.*)?$/.exec(line);
          if (!match) throw malformed(`chunk header ${JSON.stringify(line.slice(0, 100))} is not "<hex size>[;chunk-signature=…]"`);
          remaining = parseInt(match[1], 16);
          if (!Number.isSafeInteger(remaining)) throw malformed(`chunk size ${match[1]} is too large`);
          state = remaining === 0 ? 'trailer' : 'data';
          continue;
        }
        // state === 'trailer': header lines until an empty line.
        trailerBytes += line.length + 2;
        if (trailerBytes > MAX_TRAILER_BYTES) throw malformed(`trailers longer than ${MAX_TRAILER_BYTES} bytes`);
        if (line === '') {
          state = 'done';
          continue;
        }
        const colon = line.indexOf(':');
        if (colon <= 0) throw malformed(`trailer line ${JSON.stringify(line.slice(0, 100))} is not "name:value"`);
        trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    // Some clients end the body right after the last trailer line, without the empty line.
    if (state === 'trailer' && pending.length === 0) state = 'done';
    if (state !== 'done') throw malformed(state === 'data' || state === 'data-end' ? 'the body ends inside a chunk' : 'the body ends before the final zero-size chunk');
  }
  return { chunks: chunks(), trailers };
}
