import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type S3rver from 's3rver';

/**
 * Fixes to s3rver 3.7 so that it behaves like S3 where our code and any SDK rely on it:
 *
 * - **Listing order.** s3rver walks directories, so `data/test/x.png` comes before
 *   `data/test.lst`, and its marker filter then drops keys: past 1000 keys a paginated listing
 *   silently missed `data/train.lst`. Here keys are listed in S3's lexicographic order.
 * - **ListObjectsV2 pagination.** s3rver encrypts continuation tokens with DES, which OpenSSL 3
 *   (Node ≥ 17) refuses, so every truncated V2 listing was a 500. V2 requests are answered by the
 *   V1 handler and given opaque tokens of our own, so SDK paginators (JS v3, boto3) work.
 * - **Request logging** costs ~0.1 ms per request even when silent; it is removed.
 */
export function makeS3rverConformant(server: S3rver): void {
  const internals = server as unknown as S3rverInternals;
  const logger = internals.middleware.findIndex((fn) => fn.name === 'logger');
  if (logger !== -1) internals.middleware.splice(logger, 1);
  // After the XML encoder (which renders ctx.body after `next()`), before the router.
  const encoder = internals.middleware.findIndex((fn) => fn.name !== 'logger');
  internals.middleware.splice(encoder + 1, 0, listObjectsV2Tokens);
  const store = internals.store;
  store.listObjects = (bucket, options) => listInS3Order(store, bucket, options);
}

interface KoaContext {
  method: string;
  query: Record<string, string | string[] | undefined>;
  body: unknown;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void> | void;

interface S3rverStore {
  rootDirectory: string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  listObjects(bucket: string, options: ListOptions): Promise<ListResult>;
}
interface S3rverInternals {
  middleware: Middleware[];
  store: S3rverStore;
}
interface ListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}
interface ListResult {
  objects: unknown[];
  commonPrefixes: string[];
  isTruncated: boolean;
}

// s3rver's object model, constructed the way its own store does.
const S3Object = require('s3rver/lib/models/object') as new (bucket: string, key: string, content: null, metadata: Record<string, string>) => { key: string };

const S3Error = require('s3rver/lib/models/error') as new (code: string, message: string, detail: Record<string, string>) => Error;

const OBJECT_SUFFIX = '._S3rver_object';
const TOKEN_PREFIX = 'scones1:';

const encodeToken = (key: string) => Buffer.from(`${TOKEN_PREFIX}${key}`, 'utf8').toString('base64url');
function decodeToken(token: string): string | undefined {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  return text.startsWith(TOKEN_PREFIX) ? text.slice(TOKEN_PREFIX.length) : undefined;
}

/** Answers ListObjectsV2 with the V1 handler: the token is the last key returned, opaque to clients. */
const listObjectsV2Tokens: Middleware = async (ctx, next) => {
  const query = ctx.query;
  if (ctx.method !== 'GET' || query['list-type'] !== '2') return next();
  const token = typeof query['continuation-token'] === 'string' ? query['continuation-token'] : undefined;
  const startAfter = typeof query['start-after'] === 'string' ? query['start-after'] : undefined;
  const marker = token !== undefined ? decodeToken(token) : startAfter;
  if (token !== undefined && marker === undefined) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  const { 'list-type': _listType, 'continuation-token': _token, 'start-after': _startAfter, 'fetch-owner': _fetchOwner, ...rest } = query;
  ctx.query = { ...rest, ...(marker ? { marker } : {}) };
  await next();
  const result = (ctx.body as { ListBucketResult?: Record<string, unknown> } | undefined)?.ListBucketResult;
  if (!result) return;
  const { Marker: _marker, NextMarker: _nextMarker, ...fields } = result;
  const contents = (fields.Contents as Array<{ Key: string }> | undefined) ?? [];
  const prefixes = (fields.CommonPrefixes as Array<{ Prefix: string }> | undefined) ?? [];
  const last = [...contents.map((c) => c.Key), ...prefixes.map((p) => p.Prefix)].sort().at(-1);
  ctx.body = {
    ListBucketResult: {
      ...fields,
      ...(token !== undefined ? { ContinuationToken: token } : startAfter ? { StartAfter: startAfter } : {}),
      KeyCount: contents.length + prefixes.length,
      ...(fields.IsTruncated && last !== undefined ? { NextContinuationToken: encodeToken(last) } : {}),
    },
  };
};

/** S3 ListObjects semantics over s3rver's directory layout, in lexicographic key order. */
async function listInS3Order(store: S3rverStore, bucket: string, options: ListOptions): Promise<ListResult> {
  const { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity } = options;
  const keys = await keysUnder(join(store.rootDirectory, bucket), prefix);
  // JS string order (UTF-16 code units) equals S3's UTF-8 byte order outside astral characters.
  keys.sort();
  const chosen: string[] = [];
  const commonPrefixes: string[] = [];
  let isTruncated = false;
  for (const key of keys) {
    if (key <= startAfter) continue;
    const rolledUp = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (rolledUp !== -1) {
      const commonPrefix = key.slice(0, rolledUp + delimiter.length);
      // A marker inside a rolled-up prefix means that prefix was already returned.
      if (startAfter.startsWith(commonPrefix) || commonPrefixes.at(-1) === commonPrefix) continue;
      if (chosen.length + commonPrefixes.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      commonPrefixes.push(commonPrefix);
      continue;
    }
    if (chosen.length + commonPrefixes.length >= maxKeys) {
      isTruncated = true;
      break;
    }
    chosen.push(key);
  }
  const objects = await Promise.all(
    chosen.map(async (key) => {
      try {
        return new S3Object(bucket, key, null, await store.getMetadata(bucket, key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // deleted meanwhile
        throw error;
      }
    }),
  );
  return { objects: objects.filter((o) => o !== undefined), commonPrefixes, isTruncated };
}

/** Every object key under the prefix, walking only the directories that can hold one. */
async function keysUnder(bucketPath: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  const walk = async (directory: string, keyDirectory: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const key = keyDirectory + entry.name;
      if (entry.isDirectory()) {
        const sub = `${key}/`;
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) await walk(join(directory, entry.name), sub);
      } else if (entry.name.endsWith(OBJECT_SUFFIX)) {
        const objectKey = key.slice(0, -OBJECT_SUFFIX.length);
        if (objectKey.startsWith(prefix)) keys.push(objectKey);
      }
    }
  };
  await walk(bucketPath, '');
  return keys;
}
