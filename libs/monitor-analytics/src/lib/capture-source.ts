import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { dataCapturePrefix, parseDataCaptureKey } from '@scones/payload-schemas';
import { CaptureSourceError } from '../errors';

/** Inclusive start, exclusive end; either may be open. */
export interface TimeWindow {
  since?: Date;
  until?: Date;
}

export interface CaptureFile {
  /** S3 key, or path relative to the capture directory (always `/`-separated). */
  key: string;
  /** Time in the file name (`.../hh/mm-ss-mmm-<id>.jsonl`, UTC): when the writer opened it. */
  time: Date;
  /** When the file was last written (S3 LastModified, file mtime): no record in it is later. */
  lastModified?: Date;
  size?: number;
}

/** Where capture files come from: a bucket (embedded or AWS) or a directory with the same layout. */
export interface CaptureSource {
  /** `s3://bucket/prefix` or the directory, for messages. */
  readonly location: string;
  /** Capture files of the endpoint that may hold records of the window, in key (= time) order. */
  listFiles(window: TimeWindow, signal?: AbortSignal): AsyncIterable<CaptureFile>;
  /** The file's bytes as a stream of chunks. */
  openFile(file: CaptureFile, signal?: AbortSignal): AsyncIterable<Uint8Array>;
}

const MINUTE_MS = 60_000;
/** Clock differences between the capture writer, S3 and this machine that are tolerated. */
const CLOCK_SLACK_MS = 5 * MINUTE_MS;
/** Longest a capture file is assumed to stay open (SageMaker rolls them within minutes). */
export const MAX_CAPTURE_FILE_SPAN_MS = 24 * 60 * MINUTE_MS;

/**
 * Whether a capture file can hold records of the window. Its records lie between the time in its
 * name (when it was opened) and its last modification; without a modification time, a file is
 * assumed open for at most {@link MAX_CAPTURE_FILE_SPAN_MS}. A few minutes of clock slack are
 * allowed on both sides; records are then filtered exactly by their `inferenceTime`.
 */
export function fileMayOverlapWindow(file: Pick<CaptureFile, 'time' | 'lastModified'>, window: TimeWindow): boolean {
  const opened = file.time.getTime();
  const closed = file.lastModified?.getTime() ?? opened + MAX_CAPTURE_FILE_SPAN_MS;
  if (window.until && opened >= window.until.getTime() + CLOCK_SLACK_MS) return false;
  if (window.since && closed < window.since.getTime() - CLOCK_SLACK_MS) return false;
  return true;
}

export interface S3CaptureSourceOptions {
  client: S3Client;
  bucket: string;
  endpointName: string;
  variant?: string;
  /** Key prefix of the capture destination; default `data_capture`. */
  prefix?: string;
}

/** Capture files in S3 under `data_capture/<endpoint>/<variant>/yyyy/mm/dd/hh/`. */
export function s3CaptureSource(options: S3CaptureSourceOptions): CaptureSource {
  const { client, bucket, endpointName } = options;
  const prefix = dataCapturePrefix(endpointName, { variant: options.variant, prefix: options.prefix });
  const location = `s3://${bucket}/${prefix}`;
  const s3Error = (what: string, error: unknown) =>
    new CaptureSourceError(`${what}: ${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}`);
  return {
    location,
    async *listFiles(window, signal) {
      // Keys sort by time (yyyy/mm/dd/hh/mm-ss-mmm), so listing starts at the first hour that can
      // matter and stops after the last one instead of walking the endpoint's whole history.
      const startAfter = window.since
        ? dataCapturePrefix(endpointName, { variant: options.variant, prefix: options.prefix, hour: new Date(window.since.getTime() - MAX_CAPTURE_FILE_SPAN_MS - CLOCK_SLACK_MS) })
        : undefined;
      try {
        const pages = paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix, StartAfter: startAfter });
        for await (const page of pages) {
          signal?.throwIfAborted();
          for (const object of page.Contents ?? []) {
            const parsed = object.Key ? parseDataCaptureKey(object.Key) : undefined;
            if (!object.Key || !parsed) continue; // not a capture file (e.g. a folder marker)
            if (window.until && parsed.time.getTime() >= window.until.getTime() + CLOCK_SLACK_MS) return;
            const file = { key: object.Key, time: parsed.time, lastModified: object.LastModified, size: object.Size };
            if (fileMayOverlapWindow(file, window)) yield file;
          }
        }
      } catch (error) {
        if (signal?.aborted) throw error;
        throw s3Error(`cannot list capture files at ${location}`, error);
      }
    },
    async *openFile(file, signal) {
      let body: AsyncIterable<Uint8Array>;
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: file.key }), { abortSignal: signal });
        body = response.Body as unknown as AsyncIterable<Uint8Array>;
      } catch (error) {
        if (signal?.aborted) throw error;
        throw s3Error(`cannot read s3://${bucket}/${file.key}`, error);
      }
      if (!body) return;
      yield* body;
    },
  };
}

export interface DirectoryCaptureSourceOptions {
  /** A directory holding capture files in the S3 key layout (`.../<endpoint>/AllTraffic/yyyy/mm/dd/hh/*.jsonl`) at any depth. */
  directory: string;
  endpointName: string;
}

async function* walk(directory: string): AsyncGenerator<string> {
  const entries = await readdir(directory, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile() && entry.name.endsWith('.jsonl')) yield path;
  }
}

/** Capture files copied from S3 (`aws s3 sync`) or written by the local endpoint. */
export function directoryCaptureSource(options: DirectoryCaptureSourceOptions): CaptureSource {
  const root = resolve(options.directory);
  return {
    location: root,
    async *listFiles(window) {
      try {
        const info = await stat(root);
        if (!info.isDirectory()) throw new Error('not a directory');
      } catch (error) {
        throw new CaptureSourceError(`capture directory ${root}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (error as Error).message}`);
      }
      for await (const path of walk(root)) {
        // The absolute path ends in the key layout, whichever level of it `directory` points at.
        const parsed = parseDataCaptureKey(path.split(sep).join('/'));
        if (!parsed || parsed.endpointName !== options.endpointName) continue;
        const file = { key: relative(root, path).split(sep).join('/'), time: parsed.time, lastModified: (await stat(path)).mtime };
        if (fileMayOverlapWindow(file, window)) yield file;
      }
    },
    async *openFile(file, signal) {
      const stream = createReadStream(join(root, file.key), { signal });
      try {
        for await (const chunk of stream) yield chunk as Buffer;
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new CaptureSourceError(`cannot read capture file ${join(root, file.key)}: ${(error as Error).message}`);
      }
    },
  };
}
