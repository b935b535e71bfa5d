import { createHash } from 'node:crypto';
import { getMaxListeners, setMaxListeners } from 'node:events';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LocalCloudError } from '../errors';

/** An S3 call failed; the message names the bucket, key and the service's answer. */
export class S3TransferError extends LocalCloudError {
  override readonly name = 'S3TransferError';
}

export interface ObjectToPut {
  key: string;
  body: Uint8Array | string;
  contentType?: string;
}

/** What a listing says about an object. */
export interface ObjectInfo {
  /** The ETag without quotes: the hex MD5 of the body for single-part uploads. */
  etag: string;
  size: number;
}

export interface PutObjectsOptions {
  /** Requests in flight at once. Default 16. */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called after each object is put or skipped. */
  onProgress?(progress: { done: number; bytes: number; skipped: number }): void;
  /**
   * Objects already in the bucket (from {@link listObjects}): one whose size and MD5 match its
   * listed ETag is skipped, which makes re-running an upload cheap and idempotent.
   */
  existing?: ReadonlyMap<string, ObjectInfo>;
}

export interface PutObjectsResult {
  /** Objects uploaded. */
  put: number;
  /** Objects left alone because the bucket already had the same bytes. */
  skipped: number;
  /** Bytes uploaded. */
  bytes: number;
}

/** The S3 ETag a single-part upload of `body` gets (hex MD5). */
export function md5Etag(body: Uint8Array | string): string {
  return createHash('md5').update(body).digest('hex');
}

function describeError(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
  return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message ?? String(error)}${status}`;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? Object.assign(new Error('aborted'), { name: 'AbortError' });
}

/**
 * Uploads objects with at most `concurrency` requests in flight. `objects` may be an async
 * iterable that is still being produced (e.g. images encoded while an archive streams): workers
 * pull from it as they free up. The first failure stops the transfer and is thrown as
 * {@link S3TransferError}; an abort stops it with the signal's reason.
 */
export async function putObjects(
  client: S3Client,
  bucket: string,
  objects: Iterable<ObjectToPut> | AsyncIterable<ObjectToPut>,
  options: PutObjectsOptions = {},
): Promise<PutObjectsResult> {
  const concurrency = Math.max(1, options.concurrency ?? 16);
  // Every request in flight listens to the signal; more than Node's default 10 is expected here.
  if (options.signal) setMaxListeners(Math.max(getMaxListeners(options.signal), concurrency + 10), options.signal);
  const iterator: AsyncIterator<ObjectToPut> | Iterator<ObjectToPut> =
    Symbol.asyncIterator in objects ? objects[Symbol.asyncIterator]() : objects[Symbol.iterator]();
  const result: PutObjectsResult = { put: 0, skipped: 0, bytes: 0 };
  let failure: { error: unknown } | undefined;
  const stopped = () => failure !== undefined || options.signal?.aborted === true;
  // Workers may be waiting on a producer that is still running: tell it to stop on failure/abort.
  const stopProducer = () => {
    const closed = iterator.return?.();
    if (closed instanceof Promise) closed.catch(() => undefined);
  };
  options.signal?.addEventListener('abort', stopProducer, { once: true });

  const worker = async () => {
    while (!stopped()) {
      const next = await iterator.next();
      if (next.done || stopped()) return;
      const object = next.value;
      const size = typeof object.body === 'string' ? Buffer.byteLength(object.body) : object.body.byteLength;
      const known = options.existing?.get(object.key);
      if (known && known.size === size && known.etag === md5Etag(object.body)) {
        result.skipped++;
      } else {
        try {
          await client.send(
            new PutObjectCommand({ Bucket: bucket, Key: object.key, Body: object.body, ContentType: object.contentType }),
            { abortSignal: options.signal },
          );
        } catch (error) {
          failure ??= { error: options.signal?.aborted ? abortReason(options.signal) : new S3TransferError(`put s3://${bucket}/${object.key}: ${describeError(error)}`) };
          stopProducer();
          return;
        }
        result.put++;
        result.bytes += size;
      }
      options.onProgress?.({ done: result.put + result.skipped, bytes: result.bytes, skipped: result.skipped });
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    options.signal?.removeEventListener('abort', stopProducer);
  }
  if (failure) throw failure.error;
  if (options.signal?.aborted) throw abortReason(options.signal);
  return result;
}

/** Every object under `prefix` with its ETag and size, page by page (ListObjectsV2). */
export async function listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
  options: { signal?: AbortSignal; pageSize?: number } = {},
): Promise<Map<string, ObjectInfo>> {
  const objects = new Map<string, ObjectInfo>();
  let token: string | undefined;
  for (;;) {
    let page;
    try {
      page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: options.pageSize }), {
        abortSignal: options.signal,
      });
    } catch (error) {
      throw new S3TransferError(`list s3://${bucket}/${prefix}: ${describeError(error)}`);
    }
    const contents = page.Contents ?? [];
    for (const object of contents) {
      if (object.Key) objects.set(object.Key, { etag: (object.ETag ?? '').replace(/"/g, ''), size: object.Size ?? 0 });
    }
    if (!page.IsTruncated || !page.NextContinuationToken) return objects;
    token = page.NextContinuationToken;
  }
}

/** Deletes keys, 1000 per request (the S3 limit). Returns how many were deleted. */
export async function deleteObjects(client: S3Client, bucket: string, keys: readonly string[], signal?: AbortSignal): Promise<number> {
  let deleted = 0;
  for (let start = 0; start < keys.length; start += 1000) {
    const batch = keys.slice(start, start + 1000);
    let answer;
    try {
      answer = await client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw new S3TransferError(`delete ${batch.length} objects from s3://${bucket}: ${describeError(error)}`);
    }
    const failed = answer.Errors ?? [];
    if (failed.length) throw new S3TransferError(`delete s3://${bucket}/${failed[0].Key}: ${failed[0].Code}: ${failed[0].Message} (${failed.length} failed)`);
    deleted += batch.length;
  }
  return deleted;
}

/** The bytes of one object, or undefined when the bucket has no such key. */
export async function getObject(client: S3Client, bucket: string, key: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array | undefined> {
  try {
    const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: options.signal });
    return answer.Body ? await answer.Body.transformToByteArray() : new Uint8Array(0);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw new S3TransferError(`get s3://${bucket}/${key}: ${describeError(error)}`);
  }
}

/** The transfers above bound to one client and bucket (what a consumer such as a stage sink needs). */
export interface BucketTransfer {
  readonly bucket: string;
  put(objects: Iterable<ObjectToPut> | AsyncIterable<ObjectToPut>, options?: PutObjectsOptions): Promise<PutObjectsResult>;
  list(prefix: string, options?: { signal?: AbortSignal; pageSize?: number }): Promise<Map<string, ObjectInfo>>;
  delete(keys: readonly string[], signal?: AbortSignal): Promise<number>;
  get(key: string, options?: { signal?: AbortSignal }): Promise<Uint8Array | undefined>;
}

export function bucketTransfer(client: S3Client, bucket: string): BucketTransfer {
  return {
    bucket,
    put: (objects, options) => putObjects(client, bucket, objects, options),
    list: (prefix, options) => listObjects(client, bucket, prefix, options),
    delete: (keys, signal) => deleteObjects(client, bucket, keys, signal),
    get: (key, options) => getObject(client, bucket, key, options),
  };
}
