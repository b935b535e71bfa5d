import type { IncomingMessage } from 'node:http';
import { PayloadTooLargeError } from '../errors';

export interface ReadBodyResult {
  body: Buffer;
}

/**
 * Reads a request body of at most `limit` bytes. Beyond the limit nothing more is kept: the rest
 * is read and dropped (so the client gets its 413 instead of a reset connection) up to
 * `discardLimit` bytes, after which the promise rejects with `closeConnection` set and the caller
 * should close the socket. A Content-Length above the limit is refused before reading anything.
 */
export function readRequestBody(
  request: IncomingMessage,
  limit: number,
  discardLimit = Math.max(limit * 4, 32 * 1024 * 1024),
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > discardLimit) {
      request.resume();
      reject(Object.assign(new PayloadTooLargeError(limit, declared), { closeConnection: true }));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    const cleanup = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
      else if (received > discardLimit) {
        cleanup();
        request.resume();
        reject(Object.assign(new PayloadTooLargeError(limit, received), { closeConnection: true }));
      }
    };
    const onEnd = () => {
      cleanup();
      if (tooLarge) reject(new PayloadTooLargeError(limit, Math.max(received, Number.isFinite(declared) ? declared : 0)));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onAborted = () => onError(Object.assign(new Error('the client closed the connection before sending the whole body'), { code: 'ECONNRESET' }));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('aborted', onAborted);
  });
}
