/** One file of the staged layout, e.g. `data/train/bicycle_s_000017.png` or `data/train.lst`. */
export interface StagedFile {
  /** Path relative to the target root; the S3 key with a bucket. */
  key: string;
  body: Buffer;
  contentType: string;
}

export interface SinkWriteResult {
  /** Files written. */
  written: number;
  /** Files left alone because the target already had the same bytes. */
  skipped: number;
  bytes: number;
}

/**
 * Where `stageCifar` puts its files: a directory (`directorySink`) or a bucket (`s3Sink`).
 * Files arrive while the archive is still streaming; the result becomes visible only at
 * `commit`, which writes the `.lst` manifests after everything else.
 */
export interface StageSink {
  /** e.g. `s3://scones/data/` or `/home/me/out/data`. */
  readonly location: string;
  /** Consumes files until the iterable ends. Called again after `remove` (see stageCifar). */
  write(files: AsyncIterable<StagedFile>, options: { signal?: AbortSignal; onWritten?(count: number): void }): Promise<SinkWriteResult>;
  /** Removes files an earlier `write` was given (predicted labels turned out wrong). */
  remove(keys: readonly string[]): Promise<void>;
  /** Writes the manifests last and makes the staged set the visible one; returns stale files removed. */
  commit(manifests: readonly StagedFile[], staged: ReadonlySet<string>): Promise<{ removedStale: number }>;
  /** Cleans up temporary state after a failure; never throws. */
  abort(): Promise<void>;
}

/** The staged layout of the Udacity starter. */
export const STAGE_LAYOUT = {
  trainDir: 'data/train',
  testDir: 'data/test',
  trainManifest: 'data/train.lst',
  testManifest: 'data/test.lst',
} as const;
