import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** A directory on disk or a "directory" in S3 (a key prefix): where channels and artifacts live. */
export type StorageLocation = { directory: string } | { s3: S3Client; bucket: string; prefix?: string };

function prefixOf(location: Extract<StorageLocation, { s3: S3Client }>): string {
  const p = location.prefix ?? '';
  return p && !p.endsWith('/') ? `${p}/` : p;
}

/** The S3 key of a file of the location (`prefix/relative`). */
export function storedKey(location: Extract<StorageLocation, { s3: S3Client }>, relative: string): string {
  return `${prefixOf(location)}${relative}`;
}

/** `/abs/dir/relative` or `s3://bucket/prefix/relative`, for messages. */
export function describeStoredFile(location: StorageLocation, relative = ''): string {
  return 'directory' in location ? join(resolve(location.directory), relative) : `s3://${location.bucket}/${storedKey(location, relative)}`;
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
    const response = await location.s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: storedKey(location, relative) }), { abortSignal: signal });
    return (await response.Body?.transformToByteArray()) ?? new Uint8Array(0);
  } catch (error) {
    if (isMissing(error)) return undefined;
    if (signal?.aborted) throw signal.reason ?? error;
    return Promise.reject(failure(`cannot read ${describeStoredFile(location, relative)}: ${(error as Error).message}`));
  }
}
