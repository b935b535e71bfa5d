import { createHash } from 'node:crypto';
import { StageOutputError } from '../errors';
import { DEFAULT_BUCKET_LAYOUT, type BucketLayout } from '@scones/payload-schemas';
import { stageLayout, type SinkCommitResult, type SinkWriteResult, type StagedFile, type StageSink } from './stage-sink';

/**
 * The S3 operations the sink needs, for one bucket. `bucketTransfer(client, bucket)` of
 * @scones/local-cloud provides them (bounded concurrency, skip-unchanged, typed errors); taking
 * them as a parameter keeps the AWS SDK out of processes that stage to disk.
 */
export interface StageBucket {
  readonly bucket: string;
  put(
    objects: Iterable<StagedFile> | AsyncIterable<StagedFile>,
    options?: {
      concurrency?: number;
      signal?: AbortSignal;
      existing?: ReadonlyMap<string, { etag: string; size: number }>;
      onProgress?(progress: { done: number }): void;
    },
  ): Promise<{ put: number; skipped: number; bytes: number }>;
  list(prefix: string, options?: { signal?: AbortSignal }): Promise<Map<string, { etag: string; size: number }>>;
  delete(keys: readonly string[], signal?: AbortSignal): Promise<number>;
  /** The object's bytes, or undefined when there is no such key. */
  get(key: string, options?: { signal?: AbortSignal }): Promise<Uint8Array | undefined>;
}

export interface S3SinkOptions {
  /** Requests in flight. Default 16. */
  concurrency?: number;
  /** Where the data goes in the bucket (default `data/…`; `bucketLayout('')` for the course's root layout). */
  layout?: BucketLayout;
}

type Listing = Map<string, { etag: string; size: number }>;

function sameBytes(known: { etag: string; size: number } | undefined, body: Uint8Array): boolean {
  return known !== undefined && known.size === body.byteLength && known.etag === createHash('md5').update(body).digest('hex');
}

/** Yields `files` until the signal aborts, recording each key before it is handed out (its PUT may have started). */
function* untilAborted(files: readonly StagedFile[], started: Set<string>, signal: AbortSignal | undefined): Generator<StagedFile> {
  for (const file of files) {
    if (signal?.aborted) return;
    started.add(file.key);
    yield file;
  }
}

/**
 * Stages into a bucket (`data/train/*.png`, ..., keys as in the Udacity starter), all or nothing.
 * S3 has no rename, so nothing is uploaded while the archive streams: the encoded images are
 * held in memory (about 2.6 KB each: 3 MB for the two default classes, 160 MB for all 60 000
 * rows) until the whole archive has been decoded and checked. Then `commit` uploads the images
 * that are new or changed (identical objects are skipped, so a re-run uploads nothing), the
 * manifests last, and only then deletes images of the previous set that the new manifests do not
 * list. If an upload fails or the run is stopped, what was written is rolled back: new objects
 * are deleted, and overwritten ones (read beforehand) and the previous manifests are put back.
 */
export function s3Sink(bucket: StageBucket, options: S3SinkOptions = {}): StageSink {
  const concurrency = options.concurrency ?? 16;
  const layout = stageLayout(options.layout);
  const held = new Map<string, StagedFile>();
  const where = (key: string) => `s3://${bucket.bucket}/${key}`;

  const listing = async (signal?: AbortSignal): Promise<Listing> => {
    // Only the two channels' directories: other objects under the data prefix are not the staged set's.
    const [train, test] = await Promise.all([bucket.list(`${layout.trainDir}/`, { signal }), bucket.list(`${layout.testDir}/`, { signal })]);
    return new Map([...train, ...test]);
  };

  /** Reads the objects about to be overwritten, so that a rollback can put them back. */
  const backUp = async (keys: readonly string[], signal?: AbortSignal): Promise<Map<string, Uint8Array | undefined>> => {
    const saved = new Map<string, Uint8Array | undefined>();
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++];
        saved.set(key, await bucket.get(key, { signal }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
    return saved;
  };

  return {
    location: `s3://${bucket.bucket}/${(options.layout ?? DEFAULT_BUCKET_LAYOUT).dataPrefix}`,

    async write(files, { signal }): Promise<SinkWriteResult> {
      for await (const file of files) {
        if (signal?.aborted) break;
        held.set(file.key, file);
      }
      if (signal?.aborted) throw signal.reason;
      return { written: 0, skipped: 0, bytes: 0 }; // nothing is in the bucket before commit
    },

    async remove(keys) {
      for (const key of keys) held.delete(key);
    },

    async commit(manifests, staged, { signal, onWritten } = {}): Promise<SinkCommitResult> {
      const images: StagedFile[] = [];
      for (const key of staged) {
        const file = held.get(key);
        if (!file) throw new Error(`internal: ${key} was staged but never written to the sink`);
        images.push(file);
      }
      held.clear();

      // Nothing has been written yet: a failure or a stop here needs no rollback.
      const existing = await listing(signal);
      const upload: StagedFile[] = [];
      let unchanged = 0;
      for (const image of images) {
        if (sameBytes(existing.get(image.key), image.body)) unchanged++;
        else upload.push(image);
      }
      const replaced = upload.filter((image) => existing.has(image.key)).map((image) => image.key);
      const previous = await backUp([...replaced, ...manifests.map((m) => m.key)], signal);
      signal?.throwIfAborted();

      const started = new Set<string>();
      let bytes = 0;
      onWritten?.(unchanged);
      try {
        // No signal reaches the PUTs in flight: an aborted request could still land after the
        // rollback. A stop ends the queue instead, and the requests in flight finish first.
        const result = await bucket.put(untilAborted(upload, started, signal), {
          concurrency,
          onProgress: ({ done }) => onWritten?.(unchanged + done),
        });
        bytes = result.bytes;
        signal?.throwIfAborted();
        // The manifests last, one by one: they are what makes the staged set the new one.
        for (const manifest of manifests) {
          started.add(manifest.key);
          await bucket.put([manifest], { concurrency: 1 });
        }
      } catch (error) {
        const failure = signal?.aborted ? signal.reason : error;
        const rollbackError = await rollback(started, previous).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (rollbackError === undefined) throw failure;
        throw new StageOutputError(
          `${failure instanceof Error ? failure.message : String(failure)}; rolling back also failed (${(rollbackError as Error).message}): ` +
            `${where('data/')} may hold part of the new set; run the stage again`,
        );
      }

      // The new set is complete: only now do images of the previous one go.
      const stale = [...existing.keys()].filter((key) => !staged.has(key));
      try {
        if (stale.length) await bucket.delete(stale);
      } catch (error) {
        throw new StageOutputError(
          `staged the new set in ${where('data/')}, but could not delete ${stale.length} images of the previous one that it does not list (${(error as Error).message}); a re-run deletes them`,
        );
      }
      return { written: upload.length, skipped: unchanged, bytes, removedStale: stale.length };
    },

    async abort() {
      held.clear(); // nothing was uploaded outside commit, which rolls back its own writes
    },
  };

  /** Undoes the writes of a failed commit: keys that did not exist go, overwritten ones get their old bytes back. */
  async function rollback(started: ReadonlySet<string>, previous: ReadonlyMap<string, Uint8Array | undefined>): Promise<void> {
    const restore: StagedFile[] = [];
    const remove: string[] = [];
    for (const key of started) {
      const old = previous.get(key);
      if (old === undefined) remove.push(key);
      else restore.push({ key, body: Buffer.from(old.buffer, old.byteOffset, old.byteLength), contentType: key.endsWith('.lst') ? 'text/plain' : 'image/png' });
    }
    if (restore.length) await bucket.put(restore, { concurrency });
    if (remove.length) await bucket.delete(remove);
  }
}
