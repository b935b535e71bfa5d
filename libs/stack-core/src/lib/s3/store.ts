import { createHash, randomBytes } from 'node:crypto';
import { mkdir as mkdirCallback, rename as renameCallback, unlink as unlinkCallback } from 'node:fs';
import { promisify } from 'node:util';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../json-logger';
import { writeFileAtomic } from '../store/atomic-file';
import { KeyIndex, type IndexEntry } from './key-index';
import { KeyedMutex } from './keyed-mutex';
import { isValidBucketName } from './names';
import { openObjectFile, readObjectHeaderSync, type ObjectHeader, type OpenObjectFile } from './object-file';
import { s3Errors } from './s3-errors';

export interface BucketRecord {
  name: string;
  /** Where the bucket "is": its LocationConstraint, or the region of the request that created it. */
  region: string;
  /** ISO 8601. */
  createdAt: string;
}

interface BucketState {
  record: BucketRecord;
  directory: string;
  /** Fan-out directories known to exist (saves a mkdir per PUT). */
  madeDirectories: Set<string>;
  index?: KeyIndex;
  loading?: Promise<KeyIndex>;
  /** Changes committed while the index was being read from disk, applied once it is. */
  pending: Array<[string, IndexEntry | undefined]>;
  /** `index.json` is on disk and describes the objects exactly (written at a clean close). */
  snapshotOnDisk: boolean;
  /** Removing the snapshot before the first change of a session (all writers wait for it). */
  invalidating?: Promise<void>;
}

// The callback API, promisified: one thread-pool call each, lighter than fs/promises per PUT.
const renameAsync = promisify(renameCallback);
const unlinkAsync = promisify(unlinkCallback);
const mkdirAsync = promisify(mkdirCallback);

/**
 * The index of a bucket as written at a clean close, in S3 order: [key, object file name, size,
 * etag, lastModified, checksum algorithm, checksum type, storage class]. The file name lets the
 * snapshot be checked against the directory without hashing every key.
 */
type SnapshotRow = [string, string, number, string, number, string?, string?, string?];
const SNAPSHOT_FILE = 'index.json';
const SNAPSHOT_VERSION = 2;
/** Blocking header reads run in slices this long, so requests are answered while an index is read. */
const READ_SLICE_MS = 8;

export interface CommitOptions {
  /** Sees the object that would be replaced; throws to refuse (conditional writes). */
  check?: (existing: ObjectHeader | undefined) => void;
  /** True when the request's client is gone: nothing is published for it. */
  abandoned?: () => boolean;
}

/** A write whose client disconnected before it could be published. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
}

export function indexEntryOf(header: ObjectHeader): IndexEntry {
  return {
    size: header.size,
    etag: header.etag,
    lastModified: header.lastModified,
    ...(header.checksum ? { checksumAlgorithm: header.checksum.algorithm, checksumType: header.checksum.type } : {}),
    ...(header.storageClass ? { storageClass: header.storageClass } : {}),
  };
}

/**
 * The S3 service's files under `<dataDir>/s3/`:
 *
 *   buckets/<bucket>/bucket.json              the bucket (its name is validated: a safe directory name)
 *   buckets/<bucket>/objects/<h[0:2]>/<h>     one object, h = SHA-256 of its key (see object-file.ts)
 *   uploads/<upload id>/…                     multipart uploads in progress (see multipart.ts)
 *   tmp/                                      files being written; emptied at start
 *
 * No file name comes from a key: a key only ever becomes a hash, so no key (`../x`, `%2e%2e/`,
 * `/abs`, 1024 bytes of anything) can name a file elsewhere, and every legal key round-trips
 * exactly because it is stored inside the file. Every write goes to `tmp/` and is renamed into
 * place, so an object is there whole or not at all.
 */
export class S3Store {
  readonly bucketsDirectory: string;
  readonly uploadsDirectory: string;
  readonly tmpDirectory: string;
  private readonly states = new Map<string, BucketState>();
  private readonly locks = new KeyedMutex();

  constructor(
    readonly root: string,
    private readonly logger: Logger,
  ) {
    this.bucketsDirectory = join(root, 'buckets');
    this.uploadsDirectory = join(root, 'uploads');
    this.tmpDirectory = join(root, 'tmp');
  }

  /** Removes what interrupted writes left and reads the bucket list (not the objects: see {@link index}). */
  async start(): Promise<void> {
    await rm(this.tmpDirectory, { recursive: true, force: true });
    await mkdir(this.tmpDirectory, { recursive: true });
    await mkdir(this.bucketsDirectory, { recursive: true });
    await mkdir(this.uploadsDirectory, { recursive: true });
    for (const name of await readdir(this.bucketsDirectory)) {
      if (!isValidBucketName(name)) {
        this.logger.warn('s3: ignoring a directory that is not a bucket', { directory: join(this.bucketsDirectory, name) });
        continue;
      }
      const directory = join(this.bucketsDirectory, name);
      let record: BucketRecord;
      try {
        record = JSON.parse(await readFile(join(directory, 'bucket.json'), 'utf8')) as BucketRecord;
      } catch (error) {
        this.logger.warn('s3: ignoring a bucket directory without a readable bucket.json', { directory, error: (error as Error).message });
        continue;
      }
      const snapshotOnDisk = await stat(join(directory, SNAPSHOT_FILE)).then(
        () => true,
        () => false,
      );
      this.states.set(name, { record: { ...record, name }, directory, madeDirectories: new Set(), pending: [], snapshotOnDisk });
    }
  }

  /**
   * Writes the index of every bucket whose index is in memory (`index.json`), so the next start
   * lists them at once instead of reading every object's header. Call when no write is running.
   */
  async close(): Promise<void> {
    for (const state of this.states.values()) {
      if (!state.index || state.snapshotOnDisk) continue;
      const index = state.index;
      const rows: SnapshotRow[] = [];
      for (const key of index.keys()) {
        const e = index.get(key);
        if (!e) continue;
        const row: SnapshotRow = [key, this.objectFileName(key), e.size, e.etag, e.lastModified];
        if (e.checksumAlgorithm || e.storageClass) row.push(e.checksumAlgorithm ?? '', e.checksumType ?? '', e.storageClass ?? '');
        rows.push(row);
      }
      const temp = this.tempFile();
      await writeFile(temp, JSON.stringify({ version: SNAPSHOT_VERSION, objects: rows }));
      await rename(temp, join(state.directory, SNAPSHOT_FILE));
      state.snapshotOnDisk = true;
    }
  }

  /**
   * Before the first change of a session: the snapshot stops being true, so it goes — after the
   * index is read from it (cheap), so a large bucket stays listed fast. A crash from here on
   * leaves no snapshot, and the next start reads the object headers instead.
   */
  private async beforeChange(bucket: string, state: BucketState): Promise<void> {
    if (!state.snapshotOnDisk) return;
    state.invalidating ??= (async () => {
      await this.index(bucket);
      await rm(join(state.directory, SNAPSHOT_FILE), { force: true });
      state.snapshotOnDisk = false;
      state.invalidating = undefined;
    })();
    await state.invalidating;
  }

  /** A fresh name in `tmp/` (same file system as the objects, so a rename publishes it). */
  tempFile(): string {
    return join(this.tmpDirectory, `${randomBytes(12).toString('hex')}.tmp`);
  }

  buckets(): BucketRecord[] {
    return [...this.states.values()].map((s) => s.record).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  bucket(name: string): BucketRecord | undefined {
    return this.states.get(name)?.record;
  }

  requireBucket(name: string): BucketRecord {
    const state = this.states.get(name);
    if (!state) throw s3Errors.noSuchBucket(name);
    return state.record;
  }

  /** Creates a bucket; false when it already exists. The name must have been validated. */
  async createBucket(name: string, region: string): Promise<boolean> {
    if (!isValidBucketName(name)) throw new Error(`not a valid bucket name: ${JSON.stringify(name)}`);
    return this.locks.run(`bucket\0${name}`, async () => {
      if (this.states.has(name)) return false;
      const directory = join(this.bucketsDirectory, name);
      const record: BucketRecord = { name, region, createdAt: new Date().toISOString() };
      await mkdir(join(directory, 'objects'), { recursive: true });
      await writeFileAtomic(join(directory, 'bucket.json'), `${JSON.stringify(record, null, 2)}\n`);
      this.states.set(name, { record, directory, madeDirectories: new Set(), pending: [], index: new KeyIndex(), snapshotOnDisk: false });
      return true;
    });
  }

  /** Deletes an empty bucket (BucketNotEmpty otherwise). */
  async deleteBucket(name: string): Promise<void> {
    await this.locks.run(`bucket\0${name}`, async () => {
      const state = this.states.get(name);
      if (!state) throw s3Errors.noSuchBucket(name);
      const index = await this.index(name);
      if (index.size > 0) throw s3Errors.bucketNotEmpty(name);
      this.states.delete(name);
      // One rename makes the bucket disappear whole; the files go after.
      const doomed = join(this.tmpDirectory, `deleted-${name}-${randomBytes(4).toString('hex')}`);
      await rename(state.directory, doomed);
      await rm(doomed, { recursive: true, force: true });
    });
  }

  /** An object's file name: the SHA-256 of its key, so no key can name a path. */
  private objectFileName(key: string): string {
    return createHash('sha256').update(key, 'utf8').digest('hex');
  }

  objectFile(bucket: string, key: string): string {
    const hash = this.objectFileName(key);
    return join(this.bucketsDirectory, bucket, 'objects', hash.slice(0, 2), hash);
  }

  /** Opens an object (header and the start of its body); undefined when there is none. The caller closes it. */
  async open(bucket: string, key: string): Promise<OpenObjectFile | undefined> {
    const opened = await openObjectFile(this.objectFile(bucket, key));
    if (opened && opened.header.key !== key) {
      // Two keys with one SHA-256 would be a first; refuse rather than answer with another object.
      opened.close();
      throw new Error(`s3: ${this.objectFile(bucket, key)} holds key ${JSON.stringify(opened.header.key)}, not ${JSON.stringify(key)}`);
    }
    return opened;
  }

  async head(bucket: string, key: string): Promise<ObjectHeader | undefined> {
    const opened = await this.open(bucket, key);
    if (!opened) return undefined;
    opened.close();
    return opened.header;
  }

  /**
   * Publishes a written temporary file as `key` (rename, under the key's lock). `check` sees the
   * object it would replace and may refuse (conditional writes). `abandoned` is asked last: a
   * request whose client is gone (its connection reset, or its bytes after the body refused by
   * the HTTP parser) never learns of success, so its object is not published. The temporary file
   * is removed on failure.
   */
  async commit(bucket: string, key: string, temp: string, header: ObjectHeader, options: CommitOptions = {}): Promise<void> {
    try {
      await this.locks.run(`${bucket}\0${key}`, async () => {
        const state = this.states.get(bucket);
        if (!state) throw s3Errors.noSuchBucket(bucket);
        if (options.check) options.check(await this.head(bucket, key));
        if (options.abandoned?.()) throw new ClientGoneError(`the client of PUT ${bucket}/${key} went away before it was stored`);
        await this.beforeChange(bucket, state);
        const target = this.objectFile(bucket, key);
        const directory = join(state.directory, 'objects', target.slice(-64, -62));
        if (!state.madeDirectories.has(directory)) {
          await mkdirAsync(directory, { recursive: true });
          state.madeDirectories.add(directory);
        }
        try {
          await renameAsync(temp, target);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || this.states.get(bucket) !== state) throw this.states.get(bucket) ? error : s3Errors.noSuchBucket(bucket);
          // The fan-out directory went away behind our back: make it again, once.
          await mkdirAsync(directory, { recursive: true });
          await renameAsync(temp, target);
        }
        this.apply(state, key, indexEntryOf(header));
      });
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Deletes an object; false when there was none. */
  async deleteObject(bucket: string, key: string): Promise<boolean> {
    return this.locks.run(`${bucket}\0${key}`, async () => {
      const state = this.states.get(bucket);
      if (!state) throw s3Errors.noSuchBucket(bucket);
      await this.beforeChange(bucket, state);
      try {
        await unlinkAsync(this.objectFile(bucket, key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
      this.apply(state, key, undefined);
      return true;
    });
  }

  private apply(state: BucketState, key: string, entry: IndexEntry | undefined): void {
    if (state.index) {
      if (entry) state.index.set(key, entry);
      else state.index.delete(key);
    } else if (state.loading) {
      state.pending.push([key, entry]);
    }
  }

  /**
   * The bucket's key index, read from the object headers at first use (not at start, so a stack
   * with many objects starts at once) and kept current by every write afterwards.
   */
  async index(bucket: string): Promise<KeyIndex> {
    const state = this.states.get(bucket);
    if (!state) throw s3Errors.noSuchBucket(bucket);
    if (state.index) return state.index;
    state.loading ??= this.readIndex(state).then(
      (index) => {
        for (const [key, entry] of state.pending) {
          if (entry) index.set(key, entry);
          else index.delete(key);
        }
        state.pending = [];
        state.index = index;
        state.loading = undefined;
        return index;
      },
      (error: unknown) => {
        state.pending = [];
        state.loading = undefined;
        throw error;
      },
    );
    return state.loading;
  }

  private async readIndex(state: BucketState): Promise<KeyIndex> {
    const started = performance.now();
    const files = await this.objectFiles(state);
    let index: KeyIndex | undefined;
    let source = 'snapshot';
    if (state.snapshotOnDisk) index = await this.readSnapshot(state, files);
    if (!index) {
      source = 'object headers';
      index = await this.readHeaders(state, files);
    }
    this.logger.debug('s3: bucket index read', { bucket: state.record.name, objects: index.size, from: source, ms: Math.round(performance.now() - started) });
    return index;
  }

  /** The object file names of a bucket (hashes: all the directory knows). */
  private async objectFiles(state: BucketState): Promise<Set<string>> {
    const objects = join(state.directory, 'objects');
    const files = new Set<string>();
    let fanOut: string[];
    try {
      fanOut = await readdir(objects);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return files;
      throw error;
    }
    for (const d of fanOut) {
      if (!/^[0-9a-f]{2}$/.test(d)) continue;
      state.madeDirectories.add(join(objects, d));
      for (const name of await readdir(join(objects, d))) if (name.length === 64 && name.startsWith(d) && /^[0-9a-f]{64}$/.test(name)) files.add(name);
    }
    return files;
  }

  /**
   * The index as written at the last clean close, if it still names exactly the files there are
   * (a file added or removed behind the stack's back, or a damaged snapshot, means reading headers).
   */
  private async readSnapshot(state: BucketState, files: Set<string>): Promise<KeyIndex | undefined> {
    const file = join(state.directory, SNAPSHOT_FILE);
    try {
      const snapshot = JSON.parse(await readFile(file, 'utf8')) as { version: number; objects: SnapshotRow[] };
      if (snapshot.version !== SNAPSHOT_VERSION || !Array.isArray(snapshot.objects)) throw new Error(`unknown snapshot version ${snapshot.version}`);
      if (snapshot.objects.length !== files.size) throw new Error(`it lists ${snapshot.objects.length} objects, the bucket holds ${files.size} files`);
      const entries: Array<[string, IndexEntry]> = [];
      for (const [key, file, size, etag, lastModified, checksumAlgorithm, checksumType, storageClass] of snapshot.objects) {
        if (!files.has(file)) throw new Error(`it lists ${JSON.stringify(key)}, which has no file`);
        entries.push([key, { size, etag, lastModified, ...(checksumAlgorithm ? { checksumAlgorithm, checksumType } : {}), ...(storageClass ? { storageClass } : {}) }]);
      }
      const index = KeyIndex.fromSorted(entries);
      if (index.size !== files.size) throw new Error('it lists a key twice');
      return index;
    } catch (error) {
      this.logger.warn('s3: ignoring a bucket index snapshot that does not match the objects; reading their headers', { file, reason: (error as Error).message });
      await rm(file, { force: true });
      state.snapshotOnDisk = false;
      return undefined;
    }
  }

  private async readHeaders(state: BucketState, files: Set<string>): Promise<KeyIndex> {
    const index = new KeyIndex();
    const objects = join(state.directory, 'objects');
    let slice = performance.now();
    for (const name of files) {
      const file = join(objects, name.slice(0, 2), name);
      try {
        const header = readObjectHeaderSync(file);
        if (header) index.set(header.key, indexEntryOf(header));
      } catch (error) {
        this.logger.warn('s3: skipping a damaged object file', { file, error: (error as Error).message });
      }
      if (performance.now() - slice > READ_SLICE_MS) {
        await new Promise((r) => setImmediate(r));
        slice = performance.now();
      }
    }
    return index;
  }
}
