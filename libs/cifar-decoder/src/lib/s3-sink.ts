import { STAGE_LAYOUT, type SinkWriteResult, type StagedFile, type StageSink } from './stage-sink';

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
}

export interface S3SinkOptions {
  /** Requests in flight. Default 16. */
  concurrency?: number;
}

/**
 * Stages into a bucket (`data/train/*.png`, ..., keys as in the Udacity starter). Objects that
 * are already there with the same bytes (size and MD5 ETag) are skipped, so a re-run uploads
 * nothing; the manifests are uploaded last, and images of an earlier run that the new manifests
 * do not list are deleted afterwards.
 */
export function s3Sink(bucket: StageBucket, options: S3SinkOptions = {}): StageSink {
  const concurrency = options.concurrency ?? 16;
  let existing: Promise<Map<string, { etag: string; size: number }>> | undefined;
  const listing = (signal?: AbortSignal) =>
    (existing ??= (async () => {
      const [train, test] = await Promise.all([bucket.list(`${STAGE_LAYOUT.trainDir}/`, { signal }), bucket.list(`${STAGE_LAYOUT.testDir}/`, { signal })]);
      return new Map([...train, ...test]);
    })());

  return {
    location: `s3://${bucket.bucket}/data/`,

    async write(files, { signal, onWritten }): Promise<SinkWriteResult> {
      const known = await listing(signal);
      const result = await bucket.put(files, { concurrency, signal, existing: known, onProgress: ({ done }) => onWritten?.(done) });
      return { written: result.put, skipped: result.skipped, bytes: result.bytes };
    },

    async remove(keys) {
      await bucket.delete(keys);
      const known = await listing();
      for (const key of keys) known.delete(key);
    },

    async commit(manifests, staged) {
      const known = await listing();
      await bucket.put(manifests, { concurrency: 2, existing: known });
      const stale = [...known.keys()].filter((key) => !staged.has(key));
      if (stale.length) await bucket.delete(stale);
      return { removedStale: stale.length };
    },

    async abort() {
      // Uploaded images stay (a re-run skips them); without new manifests they are not a staged set.
    },
  };
}
