import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { ArchiveReadError, CifarDecoderError, CorruptArchiveError, NotGzipError, TruncatedArchiveError } from '../errors';

/** Receives the bytes of one tar member as they are decompressed. */
export interface TarMemberSink {
  data(chunk: Uint8Array): void;
  /** The member is complete. May throw: the error stops the whole read. */
  end(): void;
}

export interface ReadTarGzOptions {
  /** Called for every regular file; return a sink to receive its bytes, or undefined to skip it. */
  onMember(name: string, size: number): TarMemberSink | undefined;
  /** Compressed bytes read so far (for a progress bar). */
  onProgress?(compressedBytes: number): void;
  signal?: AbortSignal;
  /**
   * Decompress a file source on a worker thread (default true). Node's gunzip stream needs the
   * main thread between every chunk, so when that thread is busy encoding and writing images the
   * decompressor waits; on its own thread it never does.
   */
  worker?: boolean;
}

/** Decompressed bytes arriving from some gunzip, plus the compressed position. */
interface Inflater {
  /** The consumer has processed `bytes` decompressed bytes (flow control). */
  consumed(bytes: number): void;
  destroy(): void;
}

interface InflaterEvents {
  chunk(chunk: Uint8Array): boolean;
  progress(compressedBytes: number): void;
  end(): void;
  error(error: Error): void;
}

// Large output chunks mean fewer round trips between the decompressor and its consumer.
const GUNZIP_CHUNK = 256 * 1024;
const READ_CHUNK = 1024 * 1024;
/** Decompressed bytes a worker may run ahead of the consumer. */
const WORKER_WINDOW = 8 * 1024 * 1024;

function notGzip(where: string, head: Uint8Array): NotGzipError {
  if (head.length === 0) return new NotGzipError(`${where}: the file is empty (expected a .tar.gz)`);
  return new NotGzipError(`${where}: not a gzip file (starts with ${Buffer.from(head.subarray(0, 4)).toString('hex')}; expected 1f8b, a .tar.gz)`);
}

function zlibError(where: string, code: string | undefined, message: string): Error {
  if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(message)) {
    return new TruncatedArchiveError(`${where}: the gzip stream ends early (truncated download?)`);
  }
  return new CorruptArchiveError(`${where}: gzip data is corrupt: ${message}`);
}

function readError(where: string, code: string | undefined, message: string): Error {
  return new ArchiveReadError(`cannot read ${where}: ${code === 'ENOENT' ? 'no such file' : message}`);
}

function tarError(error: Error, where: string): Error {
  if (/unexpected end/i.test(error.message)) return new TruncatedArchiveError(`${where}: the tar archive ends inside a member (truncated?)`);
  return new CorruptArchiveError(`${where}: not a valid tar archive inside the gzip stream: ${error.message}`);
}

/** gunzip on this thread (for streams, and files when workers are off). */
function inflateHere(source: string | Readable, where: string, on: InflaterEvents): Inflater {
  const input: Readable = typeof source === 'string' ? createReadStream(source, { highWaterMark: READ_CHUNK }) : source;
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  let compressed = 0;
  let head: Uint8Array | undefined;
  input.on('error', (error: NodeJS.ErrnoException) => on.error(error instanceof CifarDecoderError ? error : readError(where, error.code, error.message)));
  input.on('data', (chunk: Buffer) => {
    if (!head) {
      head = chunk;
      if (chunk.length < 2 || chunk[0] !== 0x1f || chunk[1] !== 0x8b) return on.error(notGzip(where, chunk));
    }
    compressed += chunk.length;
    on.progress(compressed);
    if (!gunzip.write(chunk)) {
      input.pause();
      gunzip.once('drain', () => input.resume());
    }
  });
  input.on('end', () => (head ? gunzip.end() : on.error(notGzip(where, new Uint8Array(0)))));
  gunzip.on('error', (error: NodeJS.ErrnoException) => on.error(zlibError(where, error.code, error.message)));
  gunzip.on('data', (chunk: Buffer) => {
    if (!on.chunk(chunk)) gunzip.pause();
  });
  gunzip.on('end', () => on.end());
  return {
    consumed: () => gunzip.isPaused() && gunzip.resume(),
    destroy: () => {
      input.destroy();
      gunzip.destroy();
    },
  };
}

// The worker uses only Node built-ins, so it runs from source text (no bundling concerns).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createReadStream } = require('node:fs');
const { createGunzip } = require('node:zlib');
const input = createReadStream(workerData.path, { highWaterMark: workerData.readChunk });
const gunzip = createGunzip({ chunkSize: workerData.gunzipChunk });
let compressed = 0, ahead = 0, head = null;
const fail = (kind, code, message) => { parentPort.postMessage({ kind, code, message, head }); input.destroy(); gunzip.destroy(); };
parentPort.on('message', (consumed) => { ahead -= consumed; if (ahead < workerData.window && gunzip.isPaused()) gunzip.resume(); });
input.on('error', (e) => fail('read', e.code, e.message));
input.on('data', (chunk) => {
  if (!head) { head = new Uint8Array(chunk.subarray(0, 4)); if (chunk.length < 2 || chunk[0] !== 0x1f || chunk[1] !== 0x8b) return fail('not-gzip'); }
  compressed += chunk.length;
  if (!gunzip.write(chunk)) { input.pause(); gunzip.once('drain', () => input.resume()); }
});
input.on('end', () => (head ? gunzip.end() : fail('not-gzip')));
gunzip.on('error', (e) => fail('zlib', e.code, e.message));
gunzip.on('data', (chunk) => {
  // A chunk that fills zlib's output buffer is the whole buffer, which zlib then replaces: it can
  // move to the main thread as it is. A partial one shares its buffer with the next, so it is copied.
  const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
  const own = whole ? chunk : new Uint8Array(chunk);
  parentPort.postMessage({ kind: 'chunk', chunk: own, compressed }, [own.buffer]);
  ahead += own.length;
  if (ahead >= workerData.window) gunzip.pause();
});
gunzip.on('end', () => parentPort.postMessage({ kind: 'end', compressed }));
`;

type WorkerMessage =
  | { kind: 'chunk'; chunk: Uint8Array; compressed: number }
  | { kind: 'end'; compressed: number }
  | { kind: 'read' | 'zlib' | 'not-gzip'; code?: string; message?: string; head: Uint8Array | null };

/** gunzip of a file on a worker thread; chunks arrive as transferred buffers (no copy here). */
function inflateOnWorker(path: string, on: InflaterEvents): Inflater {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path, gunzipChunk: GUNZIP_CHUNK, readChunk: READ_CHUNK, window: WORKER_WINDOW },
  });
  let finished = false;
  const finish = () => {
    finished = true;
    void worker.terminate();
  };
  worker.on('message', (message: WorkerMessage) => {
    if (finished) return;
    if (message.kind === 'chunk') {
      on.progress(message.compressed);
      on.chunk(message.chunk);
    } else if (message.kind === 'end') {
      on.progress(message.compressed);
      finish();
      on.end();
    } else {
      finish();
      const error =
        message.kind === 'not-gzip'
          ? notGzip(path, message.head ?? new Uint8Array(0))
          : message.kind === 'zlib'
            ? zlibError(path, message.code, message.message ?? '')
            : readError(path, message.code, message.message ?? '');
      on.error(error);
    }
  });
  worker.on('error', (error) => {
    if (!finished) {
      finish();
      on.error(new ArchiveReadError(`cannot read ${path}: decompression worker failed: ${error.message}`));
    }
  });
  return {
    consumed: (bytes) => {
      if (!finished) worker.postMessage(bytes);
    },
    destroy: finish,
  };
}

/**
 * Streams a `.tar.gz`: gunzip (on a worker thread for files), tar headers parsed as bytes
 * arrive, member bytes handed to sinks — nothing is extracted to disk and the archive is never
 * held whole. Errors are typed: not gzip, truncated, corrupt, unreadable.
 */
export function readTarGz(source: string | Readable, options: ReadTarGzOptions): Promise<void> {
  const where = typeof source === 'string' ? source : 'archive';
  return new Promise<void>((resolve, reject) => {
    const extract = tarExtract();
    let settled = false;
    const current: { inflater?: Inflater } = {};

    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      current.inflater?.destroy();
      extract.destroy();
      reject(error);
    };
    const onAbort = () => fail(options.signal?.reason ?? new Error('aborted'));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const events: InflaterEvents = {
      chunk(chunk) {
        if (settled) return false;
        const more = extract.write(chunk);
        // tar-stream has taken the chunk once write() returns; acknowledge it at once or on drain.
        if (more) current.inflater?.consumed(chunk.length);
        else extract.once('drain', () => current.inflater?.consumed(chunk.length));
        return more;
      },
      progress: (bytes) => options.onProgress?.(bytes),
      end: () => (extract as unknown as NodeJS.WritableStream).end(),
      error: fail,
    };

    extract.on('entry', (header, stream, next) => {
      // The extractor reports a damaged member itself; the entry stream's copy has no other listener.
      stream.on('error', () => undefined);
      let sink: TarMemberSink | undefined;
      try {
        sink = header.type === 'file' || header.type === 'contiguous-file' ? options.onMember(header.name, header.size ?? 0) : undefined;
      } catch (error) {
        return fail(error);
      }
      if (!sink) {
        stream.on('end', () => next(undefined));
        stream.resume();
        return;
      }
      stream.on('data', (chunk: unknown) => {
        try {
          sink.data(chunk as Uint8Array);
        } catch (error) {
          fail(error);
        }
      });
      stream.on('end', () => {
        try {
          sink.end();
          next(undefined);
        } catch (error) {
          fail(error);
        }
      });
    });
    extract.on('error', (error: Error) => fail(tarError(error, where)));
    extract.on('finish', () => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      resolve();
    });

    current.inflater = typeof source === 'string' && options.worker !== false ? inflateOnWorker(source, events) : inflateHere(source, where, events);
  });
}
