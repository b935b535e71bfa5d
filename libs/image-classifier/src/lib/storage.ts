import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { extract as tarExtract } from 'tar-stream';
import { ArtifactError } from '../errors';

/**
 * A directory on disk, a "directory" in S3 (a key prefix), or a `model.tar.gz` in S3 (what a
 * SageMaker training job writes): where channels and artifacts live.
 */
export type StorageLocation = { directory: string } | { s3: S3Client; bucket: string; prefix?: string } | S3Tarball;

/** A gzipped tar in S3 whose members are the files (SageMaker's `model.tar.gz`, artifact files at its root). */
export interface S3Tarball {
  s3: S3Client;
  bucket: string;
  tarball: string;
}

/** Largest tarball read into memory (a model artifact is a few MB). */
const MAX_TARBALL_BYTES = 512 * 1024 * 1024;

/** Each tarball is fetched and unpacked once per location object. */
const unpacked = new WeakMap<S3Tarball, Promise<Map<string, Uint8Array>>>();

function isTarball(location: StorageLocation): location is S3Tarball {
  return 'tarball' in location;
}

async function tarballMembers(location: S3Tarball, signal?: AbortSignal): Promise<Map<string, Uint8Array>> {
  let members = unpacked.get(location);
  if (!members) {
    members = (async () => {
      const response = await location.s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.tarball }), { abortSignal: signal });
      if (response.ContentLength !== undefined && response.ContentLength > MAX_TARBALL_BYTES) {
        throw new ArtifactError(`s3://${location.bucket}/${location.tarball} is ${response.ContentLength} bytes, more than a model artifact can be (${MAX_TARBALL_BYTES})`);
      }
      const bytes = (await response.Body?.transformToByteArray()) ?? new Uint8Array(0);
      return untar(gunzipSync(bytes, { maxOutputLength: MAX_TARBALL_BYTES }));
    })();
    unpacked.set(location, members);
    members.catch(() => unpacked.delete(location));
  }
  return members;
}

/** Regular files of a tar by normalized path (`./a` → `a`); links and directories are ignored. */
function untar(bytes: Buffer): Promise<Map<string, Uint8Array>> {
  return new Promise((resolveMembers, reject) => {
    const files = new Map<string, Uint8Array>();
    const reader = tarExtract();
    reader.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        if (header.type === 'file') files.set(header.name.replace(/^(\.\/)+/, ''), Buffer.concat(chunks));
        next();
      });
      stream.on('error', reject);
    });
    reader.on('finish', () => resolveMembers(files));
    reader.on('error', reject);
    reader.end(bytes);
  });
}

function prefixOf(location: { prefix?: string }): string {
  const p = location.prefix ?? '';
  return p && !p.endsWith('/') ? `${p}/` : p;
}

/** The S3 key of a file of the location (`prefix/relative`). */
export function storedKey(location: { prefix?: string }, relative: string): string {
  return `${prefixOf(location)}${relative}`;
}

/** `/abs/dir/relative` or `s3://bucket/prefix/relative`, for messages. */
export function describeStoredFile(location: StorageLocation, relative = ''): string {
  if ('directory' in location) return join(resolve(location.directory), relative);
  if (isTarball(location)) return `s3://${location.bucket}/${location.tarball}${relative ? `!/${relative}` : ''}`;
  return `s3://${location.bucket}/${storedKey(location, relative)}`;
}

function isMissing(error: unknown): boolean {
  const e = error as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.code === 'ENOENT' || e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Reads one file; `undefined` when it does not exist. Other failures are passed to `failure`
 * (with a message naming the file) to become the caller's typed error; an abort rethrows its reason.
 */
export async function readStoredFile(location: StorageLocation, relative: string, failure: (message: string) => Error, signal?: AbortSignal): Promise<Uint8Array | undefined> {
  try {
    if ('directory' in location) return await readFile(join(location.directory, relative), { signal });
    if (isTarball(location)) return (await tarballMembers(location, signal)).get(relative);
    const response = await location.s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: storedKey(location, relative) }), { abortSignal: signal });
    return (await response.Body?.transformToByteArray()) ?? new Uint8Array(0);
  } catch (error) {
    if (isMissing(error)) return undefined;
    if (signal?.aborted) throw signal.reason ?? error;
    return Promise.reject(failure(`cannot read ${describeStoredFile(location, relative)}: ${(error as Error).message}`));
  }
}
