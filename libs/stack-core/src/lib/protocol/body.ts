import type { IncomingMessage } from 'node:http';
import { AwsError } from '../aws-error';

/**
 * Reads a request body into memory, refusing more than `limitBytes` — from the Content-Length
 * header before reading anything when the client declares it (a hostile size costs nothing), and
 * while streaming otherwise (chunked bodies).
 */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    if (!/^\d+$/.test(declared)) throw new AwsError('InvalidRequest', `Content-Length ${JSON.stringify(declared)} is not a number`, 400);
    if (Number(declared) > limitBytes) throw bodyTooLarge(Number(declared), limitBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw bodyTooLarge(size, limitBytes);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
}

function bodyTooLarge(size: number, limit: number): AwsError {
  return new AwsError('RequestEntityTooLarge', `request body of ${size} bytes exceeds the limit of ${limit} bytes`, 413);
}

/** Drains what is left of a request so the connection can be reused after an early answer. */
export function discardBody(req: IncomingMessage): void {
  if (!req.readableEnded) req.resume();
}
