import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AwsError } from '../aws-error';
import type { RequestContext } from '../gateway/request-context';
import { renderError } from '../protocol/render-error';
import type { StackContext, StackService } from '../service';
import {
  createBucket,
  deleteObjects,
  getBucketLocation,
  headBucket,
  listBuckets,
  listObjectsV1,
  listObjectsV2,
} from './bucket-operations';
import { listPage } from './listing';
import { abortMultipartUpload, completeMultipartUpload, createMultipartUpload, listMultipartUploads, listParts, MultipartUploads, uploadPart } from './multipart';
import { bucketNameProblem, MAX_KEY_BYTES } from './names';
import type { ObjectHeader } from './object-file';
import { copyObject, DEFAULT_CONTENT_TYPE, deleteObject, getObject, parseTagging, putObject } from './object-operations';
import { writeObjectFile } from './object-writer';
import { s3Errors } from './s3-errors';
import { parseS3Target, type S3Target } from './s3-request';
import { OWNER, sendXml } from './s3-xml';
import { ClientGoneError, S3Store } from './store';

/** What the stack's other services read and write in-process (no HTTP): model artifacts, capture, code. */
export interface S3ObjectInfo {
  key: string;
  size: number;
  /** Without quotes. */
  etag: string;
  lastModified: Date;
  contentType: string;
  metadata: Record<string, string>;
}

export interface S3ListResult {
  objects: Array<{ key: string; size: number; etag: string; lastModified: Date }>;
  commonPrefixes: string[];
  isTruncated: boolean;
  /** Pass as `startAfter` for the next page. */
  nextStartAfter?: string;
}

export interface S3Service extends StackService {
  readonly id: 's3';
  /** Creates the bucket if it does not exist. */
  createBucket(bucket: string): Promise<void>;
  /** Writes an object atomically (NoSuchBucket, KeyTooLongError as AwsError). */
  putObject(bucket: string, key: string, body: Uint8Array | string, options?: { contentType?: string; metadata?: Record<string, string> }): Promise<{ etag: string }>;
  /** The whole object in memory (NoSuchBucket / NoSuchKey as AwsError). */
  getObject(bucket: string, key: string): Promise<{ body: Buffer; info: S3ObjectInfo }>;
  /** The object as a stream, for large artifacts. */
  getObjectStream(bucket: string, key: string): Promise<{ stream: Readable; info: S3ObjectInfo }>;
  /** Undefined when there is no such object (NoSuchBucket still throws). */
  headObject(bucket: string, key: string): Promise<S3ObjectInfo | undefined>;
  deleteObject(bucket: string, key: string): Promise<void>;
  /** One page (≤ 1000) in S3 order. */
  listObjects(bucket: string, options?: { prefix?: string; delimiter?: string; startAfter?: string; maxKeys?: number }): Promise<S3ListResult>;
}

/** Bodies a refused request may still be sending are drained up to this size; beyond it the connection is closed. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;

/** Sub-resources that name an S3 API the stack does not serve, for the NotImplemented message. */
const SUBRESOURCE_NAMES: Record<string, string> = {
  acl: 'Acl',
  tagging: 'Tagging',
  policy: 'Policy',
  policyStatus: 'PolicyStatus',
  cors: 'Cors',
  lifecycle: 'LifecycleConfiguration',
  versioning: 'Versioning',
  versions: 'ObjectVersions',
  website: 'Website',
  encryption: 'Encryption',
  notification: 'NotificationConfiguration',
  logging: 'Logging',
  replication: 'Replication',
  accelerate: 'AccelerateConfiguration',
  requestPayment: 'RequestPayment',
  'object-lock': 'ObjectLockConfiguration',
  ownershipControls: 'OwnershipControls',
  publicAccessBlock: 'PublicAccessBlock',
  analytics: 'AnalyticsConfiguration',
  metrics: 'MetricsConfiguration',
  inventory: 'InventoryConfiguration',
  'intelligent-tiering': 'IntelligentTieringConfiguration',
  retention: 'ObjectRetention',
  'legal-hold': 'ObjectLegalHold',
  attributes: 'ObjectAttributes',
  torrent: 'ObjectTorrent',
  restore: 'RestoreObject',
  select: 'SelectObjectContent',
  session: 'CreateSession',
  'metadataTable': 'MetadataTableConfiguration',
  renameObject: 'RenameObject',
};

const VERBS: Record<string, string> = { GET: 'Get', HEAD: 'Head', PUT: 'Put', DELETE: 'Delete', POST: 'Post' };

function notImplemented(req: IncomingMessage, scope: 'Bucket' | 'Object', subresource: string): AwsError {
  const what = SUBRESOURCE_NAMES[subresource];
  const verb = VERBS[req.method ?? ''] ?? req.method ?? '';
  const operation = what && ['RestoreObject', 'SelectObjectContent', 'CreateSession', 'RenameObject'].includes(what) ? what : `${verb}${what?.startsWith('Object') ? '' : scope}${what ?? subresource}`;
  return s3Errors.notImplemented(`${operation} (${req.method} ?${subresource})`);
}

/** The first sub-resource of the query that selects an API this service does not answer. */
function unsupportedSubresource(query: URLSearchParams, handled: readonly string[]): string | undefined {
  for (const name of query.keys()) if (name in SUBRESOURCE_NAMES && !handled.includes(name)) return name;
  return undefined;
}

/**
 * The stack's S3: the project's own S3-protocol server (replacing s3rver, whose key-to-path mapping
 * let keys with `../` reach outside its directory). State lives in `<dataDir>/s3/` (see S3Store).
 * Path-style and `<bucket>.localhost` addressing; signed and unsigned requests.
 */
export function createS3Service(stack: StackContext): S3Service {
  const store = new S3Store(join(stack.dataDir, 's3'), stack.logger);
  const uploads = new MultipartUploads(store, stack.logger);

  const bucketOperation = async (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, bucket: string, q: URLSearchParams): Promise<void> => {
    switch (req.method) {
      case 'GET': {
        if (q.has('location')) return getBucketLocation(store, res, bucket);
        if (q.has('uploads')) return listMultipartUploads(store, uploads, res, bucket, q);
        if (q.has('versioning')) {
          store.requireBucket(bucket);
          return sendXml(res, 200, 'VersioningConfiguration', {});
        }
        if (q.has('acl')) {
          store.requireBucket(bucket);
          return sendXml(res, 200, 'AccessControlPolicy', ownerFullControl());
        }
        if (q.has('tagging')) {
          store.requireBucket(bucket);
          throw new AwsError('NoSuchTagSet', 'The TagSet does not exist', 404, { BucketName: bucket });
        }
        const other = unsupportedSubresource(q, []);
        if (other) throw notImplemented(req, 'Bucket', other);
        if (q.get('list-type') === '2') return listObjectsV2(store, res, bucket, q);
        return listObjectsV1(store, res, bucket, q);
      }
      case 'HEAD':
        return headBucket(store, res, bucket);
      case 'PUT': {
        const other = unsupportedSubresource(q, []);
        if (other) throw notImplemented(req, 'Bucket', other);
        return createBucket(store, req, res, bucket, ctx);
      }
      case 'DELETE': {
        const other = unsupportedSubresource(q, []);
        if (other) throw notImplemented(req, 'Bucket', other);
        await store.deleteBucket(bucket);
        await uploads.removeBucket(bucket);
        res.writeHead(204).end();
        return;
      }
      case 'POST':
        if (q.has('delete')) return deleteObjects(store, req, res, bucket);
        throw s3Errors.notImplemented('POST on a bucket (browser-form uploads) other than DeleteObjects (?delete)');
      default:
        throw s3Errors.methodNotAllowed(req.method ?? '', 'BUCKET');
    }
  };

  const objectOperation = async (req: IncomingMessage, res: ServerResponse, bucket: string, t: S3Target): Promise<void> => {
    const key = t.key;
    const q = t.query;
    switch (req.method) {
      case 'GET':
      case 'HEAD': {
        if (q.has('uploadId') && req.method === 'GET') return listParts(store, uploads, res, bucket, key, q);
        if (q.has('tagging') && req.method === 'GET') return getObjectTagging(res, bucket, key);
        if (q.has('acl') && req.method === 'GET') {
          await requireObject(bucket, key);
          return sendXml(res, 200, 'AccessControlPolicy', ownerFullControl());
        }
        const other = unsupportedSubresource(q, []);
        if (other) throw notImplemented(req, 'Object', other);
        return getObject(store, req, res, bucket, t, req.method === 'HEAD');
      }
      case 'PUT': {
        if (q.has('uploadId') || q.has('partNumber')) return uploadPart(store, uploads, req, res, bucket, key, q);
        const other = unsupportedSubresource(q, []);
        if (other) throw notImplemented(req, 'Object', other);
        if (req.headers['x-amz-copy-source'] !== undefined) return copyObject(store, req, res, bucket, key);
        return putObject(store, req, res, bucket, key);
      }
      case 'DELETE': {
        if (q.has('uploadId')) return abortMultipartUpload(store, uploads, res, bucket, key, q);
        const other = unsupportedSubresource(q, []);
        if (other) throw notImplemented(req, 'Object', other);
        return deleteObject(store, res, bucket, key);
      }
      case 'POST': {
        if (q.has('uploads')) return createMultipartUpload(store, uploads, req, res, bucket, key);
        if (q.has('uploadId')) return completeMultipartUpload(store, uploads, req, res, bucket, key, q);
        const other = unsupportedSubresource(q, []);
        if (other) throw notImplemented(req, 'Object', other);
        throw s3Errors.methodNotAllowed('POST', 'OBJECT');
      }
      default:
        throw s3Errors.methodNotAllowed(req.method ?? '', 'OBJECT');
    }
  };

  const requireObject = async (bucket: string, key: string): Promise<ObjectHeader> => {
    store.requireBucket(bucket);
    const header = await store.head(bucket, key);
    if (!header) throw s3Errors.noSuchKey(key);
    return header;
  };

  const getObjectTagging = async (res: ServerResponse, bucket: string, key: string) => {
    const header = await requireObject(bucket, key);
    sendXml(res, 200, 'Tagging', { TagSet: { Tag: header.tagging ? parseTagging(header.tagging) : [] } });
  };

  /** Requests being answered, so close() can stop uploads cleanly (their temporary files removed). */
  const inFlight = new Map<IncomingMessage, Promise<void>>();
  let closing = false;

  const handle = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> => {
    if (closing) {
      refuseBody(req, res);
      renderError(res, new AwsError('ServiceUnavailable', 'the local S3 is stopping', 503), 'restXml', ctx.requestId, { head: req.method === 'HEAD', service: 's3' });
      return Promise.resolve();
    }
    const answered = answer(req, res, ctx).finally(() => inFlight.delete(req));
    inFlight.set(req, answered);
    return answered;
  };

  const answer = async (req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> => {
    try {
      const target = parseS3Target(req);
      if (target.bucket === undefined) {
        if (req.method === 'GET') return listBuckets(store, res, target.query);
        throw s3Errors.methodNotAllowed(req.method ?? '', 'SERVICE');
      }
      if (target.key === '') return await bucketOperation(req, res, ctx, target.bucket, target.query);
      return await objectOperation(req, res, target.bucket, target);
    } catch (error) {
      // An aborted upload (ECONNRESET while reading the body) is the client's doing, not a failure.
      if (error instanceof ClientGoneError || req.socket.destroyed) {
        stack.logger.info('s3: client went away; nothing stored', { method: req.method, url: req.url, requestId: ctx.requestId });
        res.destroy();
        return;
      }
      let reply: AwsError;
      if (error instanceof AwsError) {
        reply = error;
        stack.logger.debug('s3: request refused', { method: req.method, url: req.url, code: error.code, requestId: ctx.requestId });
      } else {
        stack.logger.error('s3: request failed', { method: req.method, url: req.url, error });
        reply = new AwsError('InternalError', `We encountered an internal error: ${(error as Error)?.message ?? String(error)}`, 500);
      }
      refuseBody(req, res);
      renderError(res, reply, 'restXml', ctx.requestId, { head: req.method === 'HEAD', service: 's3' });
    }
  };

  const infoOf = (h: ObjectHeader): S3ObjectInfo => ({ key: h.key, size: h.size, etag: h.etag, lastModified: new Date(h.lastModified), contentType: h.contentType, metadata: h.metadata });
  const checkKey = (key: string) => {
    const bytes = Buffer.byteLength(key, 'utf8');
    if (bytes === 0) throw s3Errors.invalidArgument('An object key must not be empty', 'key', key);
    if (bytes > MAX_KEY_BYTES) throw s3Errors.keyTooLong(bytes);
  };

  return {
    id: 's3',
    handle,
    async start() {
      await store.start();
      await uploads.start();
    },
    async close() {
      // Every answered write is already on disk. Uploads still arriving are cut off, and their
      // handlers remove what they wrote, before the process may exit: a stop leaves no debris.
      closing = true;
      for (const req of inFlight.keys()) req.socket.destroy();
      await Promise.allSettled([...inFlight.values()]);
      await store.close();
    },
    async status() {
      const buckets = [];
      for (const record of store.buckets()) {
        const index = await store.index(record.name);
        buckets.push({ name: record.name, region: record.region, objects: index.size, bytes: index.totalBytes });
      }
      return { buckets, uploadsInProgress: uploads.count() };
    },
    async createBucket(bucket) {
      const problem = bucketNameProblem(bucket);
      if (problem) throw s3Errors.invalidBucketName(bucket, problem);
      await store.createBucket(bucket, stack.region);
    },
    async putObject(bucket, key, body, options = {}) {
      store.requireBucket(bucket);
      checkKey(key);
      const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      const initial: ObjectHeader = { key, size: data.length, etag: '', lastModified: Date.now(), contentType: options.contentType ?? DEFAULT_CONTENT_TYPE, metadata: { ...(options.metadata ?? {}) } };
      const temp = store.tempFile();
      const written = await writeObjectFile(temp, initial, { chunks: [data], length: data.length }, [], (received) => ({ ...initial, etag: received.md5.toString('hex'), lastModified: Date.now() }));
      await store.commit(bucket, key, temp, written);
      return { etag: written.etag };
    },
    async getObject(bucket, key) {
      const { stream, info } = await this.getObjectStream(bucket, key);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return { body: Buffer.concat(chunks), info };
    },
    async getObjectStream(bucket, key) {
      store.requireBucket(bucket);
      const opened = await store.open(bucket, key);
      if (!opened) throw s3Errors.noSuchKey(key);
      if (opened.header.size === 0) {
        opened.close();
        return { stream: Readable.from([]), info: infoOf(opened.header) };
      }
      const stream = opened.stream(0, opened.header.size - 1, true);
      return { stream, info: infoOf(opened.header) };
    },
    async headObject(bucket, key) {
      store.requireBucket(bucket);
      const header = await store.head(bucket, key);
      return header ? infoOf(header) : undefined;
    },
    async deleteObject(bucket, key) {
      store.requireBucket(bucket);
      await store.deleteObject(bucket, key);
    },
    async listObjects(bucket, options = {}) {
      const page = listPage(await store.index(bucket), { prefix: options.prefix, delimiter: options.delimiter, after: options.startAfter, maxKeys: options.maxKeys });
      return {
        objects: page.objects.map((o) => ({ key: o.key, size: o.size, etag: o.etag, lastModified: new Date(o.lastModified) })),
        commonPrefixes: page.commonPrefixes,
        isTruncated: page.isTruncated,
        nextStartAfter: page.isTruncated ? page.last : undefined,
      };
    },
  };
}

function ownerFullControl() {
  return {
    Owner: OWNER,
    AccessControlList: { Grant: { Grantee: { ID: OWNER.ID, DisplayName: OWNER.DisplayName }, Permission: 'FULL_CONTROL' } },
  };
}

/**
 * After refusing a request whose body was not read: drain a small body so the connection can be
 * reused; close the connection after the answer rather than read a large (or hostile) one.
 */
function refuseBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.readableEnded) return;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared <= DRAIN_LIMIT_BYTES) {
    req.resume();
    return;
  }
  if (!res.headersSent) res.setHeader('connection', 'close');
  let drained = 0;
  const onData = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_LIMIT_BYTES) req.socket.destroy();
  };
  req.on('data', onData);
  res.once('finish', () => {
    // Give the client a moment to read the error before the connection goes.
    setTimeout(() => req.socket.destroy(), 100).unref();
  });
}
