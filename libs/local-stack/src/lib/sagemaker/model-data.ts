import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { extract as tarExtract, pack as tarPack } from 'tar-stream';

/**
 * Where a model's files come from, as SageMaker reads them into /opt/ml/model:
 * - `tarball`: a `model.tar.gz` object (ModelDataUrl, or ModelDataSource S3Object + Gzip), unpacked;
 * - `prefix`: every object under an S3 prefix ending in `/` (ModelDataSource S3Prefix + None, or
 *   the project's own `models/<job>/` layout given as ModelDataUrl), copied;
 * - `object`: one uncompressed object (ModelDataSource S3Object + None), copied.
 */
export interface ModelDataSource {
  kind: 'tarball' | 'prefix' | 'object';
  bucket: string;
  key: string;
}

export class ModelDataError extends Error {
  override readonly name = 'ModelDataError';
}

/** Refuses archives that would fill the disk or hold too many files (a gzip bomb, a hostile tar). */
const MAX_UNPACKED_BYTES = 4 * 1024 ** 3;
const MAX_FILES = 10_000;

function describe(source: ModelDataSource): string {
  return `s3://${source.bucket}/${source.key}`;
}

/** A relative path inside the model directory, or undefined when `name` would reach outside it. */
export function safeRelativePath(name: string): string | undefined {
  const cleaned = name.replace(/^(\.\/)+/, '');
  if (cleaned === '' || cleaned.startsWith('/') || cleaned.includes('\0') || cleaned.includes('\\')) return undefined;
  const normal = posix.normalize(cleaned);
  if (normal === '.' || normal.startsWith('../') || normal === '..' || normal.split('/').includes('..')) return undefined;
  return normal.replace(/\/$/, '');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function s3Failure(source: ModelDataSource, error: unknown): ModelDataError {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404) {
    return new ModelDataError(`Could not find model data at ${describe(source)}.`);
  }
  if (e?.name === 'NoSuchBucket') return new ModelDataError(`Could not find model data at ${describe(source)}: the bucket ${source.bucket} does not exist.`);
  return new ModelDataError(`Could not read model data at ${describe(source)}: ${e?.name ? `${e.name}: ` : ''}${e?.message ?? String(error)}`);
}

async function unpackTarball(s3: S3Client, source: ModelDataSource, target: string, signal?: AbortSignal): Promise<number> {
  let body: Readable;
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key }), { abortSignal: signal });
    body = answer.Body as Readable;
  } catch (error) {
    throw s3Failure(source, error);
  }
  const extract = tarExtract();
  let files = 0;
  let bytes = 0;
  const gunzip = createGunzip();
  const feeding = pipeline(body, gunzip, extract, { signal }).catch((error: Error & { code?: string }) => {
    extract.destroy(error);
    throw error;
  });
  try {
    for await (const entry of extract) {
      const header = entry.header;
      const path = safeRelativePath(header.name);
      if (header.type === 'directory') {
        if (path) await mkdir(join(target, path), { recursive: true });
        entry.resume();
        continue;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        // Links and devices could point outside the model directory: SageMaker's model data is plain files.
        entry.resume();
        continue;
      }
      if (!path) throw new ModelDataError(`${describe(source)}: the archive member ${JSON.stringify(header.name)} would be written outside the model directory`);
      if (++files > MAX_FILES) throw new ModelDataError(`${describe(source)}: more than ${MAX_FILES} files in the archive`);
      bytes += header.size ?? 0;
      if (bytes > MAX_UNPACKED_BYTES) throw new ModelDataError(`${describe(source)}: unpacks to more than ${MAX_UNPACKED_BYTES} bytes`);
      await mkdir(dirname(join(target, path)), { recursive: true });
      await pipeline(entry, createWriteStream(join(target, path)));
    }
    await feeding;
  } catch (error) {
    extract.destroy();
    await feeding.catch(() => undefined);
    if (error instanceof ModelDataError) throw error;
    const e = error as Error & { code?: string };
    if (signal?.aborted) throw signal.reason ?? error;
    if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR' || /incorrect header check|unexpected end of file/i.test(e.message)) {
      throw new ModelDataError(`${describe(source)} is not a gzip-compressed tar archive (model.tar.gz): ${e.message}`);
    }
    throw new ModelDataError(`${describe(source)} could not be unpacked: ${e.message}`);
  }
  if (files === 0) throw new ModelDataError(`${describe(source)} holds no files`);
  return files;
}

async function copyObject(s3: S3Client, bucket: string, key: string, file: string, source: ModelDataSource, signal?: AbortSignal): Promise<void> {
  let body: Readable;
  try {
    body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal })).Body as Readable;
  } catch (error) {
    throw s3Failure({ ...source, key }, error);
  }
  await mkdir(dirname(file), { recursive: true });
  await pipeline(body, createWriteStream(file), { signal });
}

/** Every key under `prefix` (paginated). */
export async function listKeys(s3: S3Client, bucket: string, prefix: string, signal?: AbortSignal): Promise<Array<{ key: string; size: number }>> {
  const keys: Array<{ key: string; size: number }> = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
    for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push({ key: o.Key, size: o.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function copyPrefix(s3: S3Client, source: ModelDataSource, target: string, signal?: AbortSignal): Promise<number> {
  let keys: Array<{ key: string; size: number }>;
  try {
    keys = await listKeys(s3, source.bucket, source.key, signal);
  } catch (error) {
    throw s3Failure(source, error);
  }
  const files = keys.filter((k) => !k.key.endsWith('/'));
  if (files.length === 0) throw new ModelDataError(`Could not find model data at ${describe(source)}: no objects under the prefix.`);
  if (files.length > MAX_FILES) throw new ModelDataError(`${describe(source)}: more than ${MAX_FILES} objects under the prefix`);
  for (const { key } of files) {
    const path = safeRelativePath(key.slice(source.key.length));
    if (!path) throw new ModelDataError(`${describe(source)}: the object key ${JSON.stringify(key)} would be written outside the model directory`);
    await copyObject(s3, source.bucket, key, join(target, path), source, signal);
  }
  return files.length;
}

/**
 * Puts a model's files into `directory` (like SageMaker's /opt/ml/model): whole or not at all —
 * they are written to a temporary directory beside it and renamed. A directory that already
 * exists is complete and kept (an endpoint restarted after a crash or a stack restart serves the
 * copy it has, as a SageMaker instance keeps its model). Returns whether it fetched.
 */
export async function materializeModelData(s3: S3Client, source: ModelDataSource, directory: string, signal?: AbortSignal): Promise<boolean> {
  if (await exists(directory)) return false;
  const staging = `${directory}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(staging, { recursive: true });
  try {
    if (source.kind === 'tarball') await unpackTarball(s3, source, staging, signal);
    else if (source.kind === 'prefix') await copyPrefix(s3, source, staging, signal);
    else await copyObject(s3, source.bucket, source.key, join(staging, posix.basename(source.key)), source, signal);
    await rename(staging, directory);
    return true;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Removes leftovers of interrupted fetches beside `directory`. */
export async function removePartialModelData(parent: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => /\.partial-\d+-[0-9a-f]{8}$/.test(n)).map((n) => rm(join(parent, n), { recursive: true, force: true })));
}

/** The files of a directory, as relative POSIX paths, sorted. */
async function filesUnder(directory: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await visit(full);
      else if (entry.isFile()) out.push(relative(directory, full).split(sep).join('/'));
    }
  };
  await visit(directory);
  return out.sort();
}

/**
 * `model.tar.gz` of a directory, files at the archive's root (what SageMaker's training jobs
 * upload, and what its endpoints unpack into /opt/ml/model).
 */
export async function packModelTarball(directory: string, mtime = new Date()): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => void chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const name of await filesUnder(directory)) {
    const body = await readFile(join(directory, name));
    await new Promise<void>((resolve, reject) => pack.entry({ name, size: body.length, mode: 0o644, mtime }, body, (error) => (error ? reject(error) : resolve())));
  }
  pack.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}
