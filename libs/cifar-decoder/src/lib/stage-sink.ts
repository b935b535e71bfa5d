import { DEFAULT_BUCKET_LAYOUT, type BucketLayout } from '@scones/payload-schemas';
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

export interface SinkCommitResult extends SinkWriteResult {
  /** Files of the previous staged set that the new one does not have, removed after the manifests. */
  removedStale: number;
}

export interface SinkCommitOptions {
  /** Stops the commit; what it had written is rolled back before it rejects with the reason. */
  signal?: AbortSignal;
  /** Images written or found unchanged so far during the commit. */
  onWritten?(count: number): void;
}

/**
 * Where `stageCifar` puts its files: a directory (`directorySink`) or a bucket (`s3Sink`).
 * Files arrive while the archive is still streaming and are kept aside (a hidden directory, or
 * memory); only `commit`, called once the whole archive has been decoded and checked, makes them
 * the staged set, writing the `.lst` manifests last. A failure at any point leaves the previous
 * staged set as it was.
 */
export interface StageSink {
  /** e.g. `s3://scones/data/` or `/home/me/out/data`. */
  readonly location: string;
  /** Consumes files until the iterable ends. Called again after `remove` (see stageCifar). Counts what it wrote to the target. */
  write(files: AsyncIterable<StagedFile>, options: { signal?: AbortSignal; onWritten?(count: number): void }): Promise<SinkWriteResult>;
  /** Forgets files an earlier `write` was given (predicted labels turned out wrong). */
  remove(keys: readonly string[]): Promise<void>;
  /**
   * Makes `staged` (keys given to `write`) plus the manifests the staged set, the manifests
   * last, then removes files of the previous set that are not in it. All or nothing: on failure
   * the previous set is left intact. Counts what it wrote itself.
   */
  commit(manifests: readonly StagedFile[], staged: ReadonlySet<string>, options?: SinkCommitOptions): Promise<SinkCommitResult>;
  /** Cleans up temporary state after a failure; never throws. */
  abort(): Promise<void>;
}

/** Where the staged files go, from the bucket layout (the project's `data/…`, or the course's root layout). */
export interface StageLayout {
  trainDir: string;
  testDir: string;
  trainManifest: string;
  testManifest: string;
}

export function stageLayout(layout: BucketLayout = DEFAULT_BUCKET_LAYOUT): StageLayout {
  return {
    trainDir: layout.trainPrefix.replace(/\/$/, ''),
    testDir: layout.testPrefix.replace(/\/$/, ''),
    trainManifest: layout.trainManifest,
    testManifest: layout.testManifest,
  };
}

/** The project's default layout: `data/train/`, `data/test/`, `data/train.lst`, `data/test.lst`. */
export const STAGE_LAYOUT: StageLayout = stageLayout();
