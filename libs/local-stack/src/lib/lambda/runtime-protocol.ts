/**
 * The wire between the stack and a Lambda execution environment (a warm worker process): frames
 * on one duplex channel (fd 3 of the worker), each `u32 header length, u32 body length` (big
 * endian), a JSON header, then the body bytes. The Python bootstrap speaks the same framing.
 *
 * stack → worker: `{t: 'invoke', id, deadlineMs, arn, clientContext?}` + event JSON.
 * worker → stack: `{t: 'ready', initMs}` | `{t: 'initError'}` + error JSON | `{t: 'log', s}` + text |
 *                 `{t: 'result', ct, memMb}` + payload | `{t: 'error', memMb, exit?}` + error JSON.
 */
export type FrameHeader = { t: string } & Record<string, unknown>;

export interface Frame {
  header: FrameHeader;
  body: Buffer;
}

/** A header larger than this is a protocol error (headers are small JSON objects). */
const MAX_HEADER_BYTES = 1024 * 1024;
/** Bodies carry payloads of at most 6 MB plus error details; more is a broken worker. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function encodeFrame(header: FrameHeader, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const prefix = Buffer.allocUnsafe(8);
  prefix.writeUInt32BE(head.length, 0);
  prefix.writeUInt32BE(data.length, 4);
  return Buffer.concat([prefix, head, data]);
}

/** Splits a byte stream into frames; throws on a frame no honest peer would send. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < 8) break;
      const prefix = this.peek(8);
      const headLength = prefix.readUInt32BE(0);
      const bodyLength = prefix.readUInt32BE(4);
      if (headLength > MAX_HEADER_BYTES || bodyLength > MAX_BODY_BYTES) throw new Error(`runtime protocol: frame of ${headLength}+${bodyLength} bytes exceeds the limits`);
      if (this.buffered < 8 + headLength + bodyLength) break;
      const frame = this.take(8 + headLength + bodyLength);
      const header = JSON.parse(frame.subarray(8, 8 + headLength).toString('utf8')) as FrameHeader;
      if (!header || typeof header.t !== 'string') throw new Error('runtime protocol: frame header without a type');
      frames.push({ header, body: frame.subarray(8 + headLength) });
    }
    return frames;
  }

  private peek(length: number): Buffer {
    if (this.chunks[0].length < length) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, length);
  }

  private take(length: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const frame = all.subarray(0, length);
    const rest = all.subarray(length);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return frame;
  }
}
