import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { ArchiveReadError, CifarDecoderError, CorruptArchiveError, NotGzipError, NotTarError, TruncatedArchiveError } from '../errors';

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

const TAR_BLOCK = 512;

/** Whether `block` is a tar header: its checksum field matches (the sum of its bytes, the field counted as spaces). */
function isTarHeader(block: Uint8Array): boolean {
  if (block.length < TAR_BLOCK) return false;
  const field = Buffer.from(block.subarray(148, 156)).toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return parseInt(field, 8) === sum;
}

/** What decompressed bytes that are not a tar archive look like, for the error message. */
function describeContent(head: Uint8Array): string {
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return `a Python pickle (protocol ${head[1]}), not a tar archive of pickles`;
  if (head[0] === 0x1f && head[1] === 0x8b) return 'another gzip stream (compressed twice?)';
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'a zip archive';
  const start = Buffer.from(head.subarray(0, 24));
  if (start.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) return `text starting ${JSON.stringify(start.toString('latin1'))}`;
  return `data starting with ${start.subarray(0, 8).toString('hex')}`;
}

/** `total`: the decompressed size when the stream has ended (tar-stream may give up after the first block). */
function notTar(where: string, head: Uint8Array, total: number | undefined): NotTarError {
  const content = total === 0 ? 'nothing (an empty gzip stream)' : `${describeContent(head)}${total === undefined ? '' : ` (${total} bytes)`}`;
  return new NotTarError(`${where}: a gzip file, but not a tar archive: it holds ${content}; expected cifar-100-python.tar.gz, a gzipped tar archive`);
}

/**
 * A tar-stream error as a typed one. Before the first member the bytes are checked: data that
 * is not tar at all (a gzipped pickle or text) is named as such, not called a truncated archive.
 */
function tarError(error: Error, where: string, probe: { head: Uint8Array; total: number; members: number; ended: boolean }): Error {
  if (probe.members === 0 && !isTarHeader(probe.head)) return notTar(where, probe.head, probe.ended ? probe.total : undefined);
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

    // The first block of the decompressed data and what has been seen, to name non-tar content.
    const probe = { head: new Uint8Array(0), total: 0, members: 0, ended: false };
    const events: InflaterEvents = {
      chunk(chunk) {
        if (settled) return false;
        if (probe.head.length < TAR_BLOCK) {
          const head = new Uint8Array(Math.min(TAR_BLOCK, probe.head.length + chunk.length));
          head.set(probe.head);
          head.set(chunk.subarray(0, head.length - probe.head.length), probe.head.length);
          probe.head = head;
        }
        probe.total += chunk.length;
        const more = extract.write(chunk);
        // tar-stream has taken the chunk once write() returns; acknowledge it at once or on drain.
        if (more) current.inflater?.consumed(chunk.length);
        else extract.once('drain', () => current.inflater?.consumed(chunk.length));
        return more;
      },
      progress: (bytes) => options.onProgress?.(bytes),
      end: () => {
        probe.ended = true;
        (extract as unknown as NodeJS.WritableStream).end();
      },
      error: fail,
    };

    extract.on('entry', (header, stream, next) => {
      probe.members++;
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
    extract.on('error', (error: Error) => fail(tarError(error, where, probe)));
    extract.on('finish', () => {
      if (settled) return;
      if (probe.total === 0) return fail(notTar(where, probe.head, 0));
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      resolve();
    });

    current.inflater = typeof source === 'string' && options.worker !== false ? inflateOnWorker(source, events) : inflateHere(source, where, events);
  });
}
