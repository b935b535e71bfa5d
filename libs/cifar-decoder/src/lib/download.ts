import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ChecksumMismatchError, DownloadError } from '../errors';

/** The official archive (https://www.cs.toronto.edu/~kriz/cifar.html). */
export const CIFAR100_URL = 'https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz';
export const CIFAR100_MD5 = 'eb9058c3a382ffc7106e4002c42a8d85';
export const DEFAULT_CACHE_DIRECTORY = '.scones/cache';

export interface FetchArchiveOptions {
  url?: string;
  /** Expected MD5 (hex) of the whole file. */
  md5?: string;
  /** Where the archive is kept between runs. Default `.scones/cache`. */
  cacheDirectory?: string;
  signal?: AbortSignal;
  /** Bytes on disk so far (resumed bytes included) and the total when the server says it. */
  onProgress?(received: number, total: number | undefined): void;
}

export interface FetchedArchive {
  path: string;
  /** False when the verified cached copy was used. */
  downloaded: boolean;
  /** Bytes that came from an earlier, interrupted download. */
  resumedBytes: number;
  bytes: number;
}

interface VerifiedMarker {
  md5: string;
  size: number;
  mtimeMs: number;
}

async function md5OfFile(path: string, hash: Hash = createHash('md5')): Promise<Hash> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash;
}

async function fileSize(path: string): Promise<number | undefined> {
  return stat(path).then(
    (s) => s.size,
    () => undefined,
  );
}

/** True when `path` was verified earlier and has not changed since (size and mtime). */
async function verifiedEarlier(path: string, marker: string, md5: string): Promise<boolean> {
  try {
    const [info, saved] = await Promise.all([stat(path), readFile(marker, 'utf8')]);
    const m = JSON.parse(saved) as VerifiedMarker;
    return m.md5 === md5 && m.size === info.size && m.mtimeMs === info.mtimeMs;
  } catch {
    return false;
  }
}

async function markVerified(path: string, marker: string, md5: string): Promise<void> {
  const info = await stat(path);
  await writeFile(marker, JSON.stringify({ md5, size: info.size, mtimeMs: info.mtimeMs } satisfies VerifiedMarker));
}

/**
 * Returns a verified local copy of the archive, downloading it into the cache when needed.
 * Resume-safe: bytes go to `<name>.partial` and a later call continues it with an HTTP Range
 * request; the file gets its final name only after its MD5 matches. A mismatch deletes it and
 * throws {@link ChecksumMismatchError}. A cached copy is hashed once, then trusted while its size
 * and mtime are unchanged.
 */
export async function fetchCifarArchive(options: FetchArchiveOptions = {}): Promise<FetchedArchive> {
  const url = options.url ?? CIFAR100_URL;
  const md5 = (options.md5 ?? CIFAR100_MD5).toLowerCase();
  const directory = resolve(options.cacheDirectory ?? DEFAULT_CACHE_DIRECTORY);
  const name = basename(new URL(url).pathname) || 'cifar-100-python.tar.gz';
  const path = join(directory, name);
  const partial = `${path}.partial`;
  const marker = `${path}.verified`;
  await mkdir(directory, { recursive: true });

  const cachedSize = await fileSize(path);
  if (cachedSize !== undefined) {
    if (await verifiedEarlier(path, marker, md5)) return { path, downloaded: false, resumedBytes: 0, bytes: cachedSize };
    if ((await md5OfFile(path)).digest('hex') === md5) {
      await markVerified(path, marker, md5);
      return { path, downloaded: false, resumedBytes: 0, bytes: cachedSize };
    }
    await rm(path, { force: true });
  }
  await rm(marker, { force: true });

  let offset = (await fileSize(partial)) ?? 0;
  let response: Response;
  try {
    response = await fetch(url, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, signal: options.signal, redirect: 'follow' });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const cause = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new DownloadError(`GET ${url}: ${cause}`);
  }
  let total: number | undefined;
  if (response.status === 206) {
    const range = /^bytes (\d+)-\d+\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== offset) {
      await response.body?.cancel();
      await rm(partial, { force: true });
      throw new DownloadError(`GET ${url}: the server resumed at an unexpected position (${response.headers.get('content-range')}); the partial download was deleted, run again`);
    }
    total = Number(range[2]);
  } else if (response.status === 416 && offset > 0) {
    // The partial file is already complete (or longer than the file): verify what we have.
    await response.body?.cancel();
    total = offset;
  } else if (response.status === 200) {
    offset = 0; // the server ignored the Range header: start over
    const length = Number(response.headers.get('content-length'));
    total = Number.isFinite(length) && length > 0 ? length : undefined;
  } else {
    await response.body?.cancel();
    throw new DownloadError(`GET ${url}: HTTP ${response.status} ${response.statusText}`);
  }

  const hash = offset > 0 ? await md5OfFile(partial) : createHash('md5');
  let received = offset;
  options.onProgress?.(received, total);
  if (response.status !== 416 && response.body) {
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        received += chunk.length;
        options.onProgress?.(received, total);
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), counter, createWriteStream(partial, { flags: offset > 0 ? 'a' : 'w' }), {
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new DownloadError(`GET ${url}: the download stopped after ${received} bytes (${(error as Error).message}); run again to resume`);
    }
  }
  if (total !== undefined && received !== total) {
    throw new DownloadError(`GET ${url}: got ${received} of ${total} bytes; run again to resume`);
  }
  const actual = hash.digest('hex');
  if (actual !== md5) {
    await rm(partial, { force: true });
    throw new ChecksumMismatchError(`${url}: MD5 of the downloaded file is ${actual}, expected ${md5}; the file was deleted, run again to download it afresh`);
  }
  await rename(partial, path);
  await markVerified(path, marker, md5);
  return { path, downloaded: true, resumedBytes: offset, bytes: received };
}
