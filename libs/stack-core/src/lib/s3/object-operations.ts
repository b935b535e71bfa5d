import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { AwsError } from '../aws-error';
import { checksumHeader } from './checksums';
import type { ObjectHeader, OpenObjectFile } from './object-file';
import { receivedChecksum, writeObjectFile } from './object-writer';
import { digestExpectations, requestBody, storedContentEncoding, verifyDigests } from './request-body';
import { s3Errors } from './s3-errors';
import { parseCopySource, type S3Target } from './s3-request';
import { isoSeconds, sendXml } from './s3-xml';
import type { S3Store } from './store';

export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
const MAX_METADATA_BYTES = 2048;
const STORAGE_CLASSES = new Set(['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE']);

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The parts of an object's header that come from the request's headers (PUT, REPLACE copies, uploads). */
export function headerFieldsFromRequest(req: IncomingMessage): Omit<ObjectHeader, 'key' | 'size' | 'etag' | 'lastModified'> {
  const metadata: Record<string, string> = {};
  let metadataBytes = 0;
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    const short = name.slice('x-amz-meta-'.length);
    metadata[short] = text;
    metadataBytes += Buffer.byteLength(short) + Buffer.byteLength(text, 'latin1');
  }
  if (metadataBytes > MAX_METADATA_BYTES) throw s3Errors.metadataTooLarge(metadataBytes);
  const storageClass = header(req, 'x-amz-storage-class');
  if (storageClass !== undefined && !STORAGE_CLASSES.has(storageClass)) {
    throw new AwsError('InvalidStorageClass', `The storage class you specified is not valid: ${JSON.stringify(storageClass)}`, 400, { StorageClassRequested: storageClass });
  }
  const tagging = header(req, 'x-amz-tagging');
  if (tagging !== undefined) parseTagging(tagging);
  const optional = (name: string) => header(req, name);
  return {
    contentType: header(req, 'content-type') || DEFAULT_CONTENT_TYPE,
    contentEncoding: storedContentEncoding(req),
    contentDisposition: optional('content-disposition'),
    contentLanguage: optional('content-language'),
    cacheControl: optional('cache-control'),
    expires: optional('expires'),
    metadata,
    ...(storageClass && storageClass !== 'STANDARD' ? { storageClass } : {}),
    ...(tagging ? { tagging } : {}),
  };
}

/** `x-amz-tagging` (`k1=v1&k2=v2`): at most 10 tags, keys ≤ 128 and values ≤ 256 characters. */
export function parseTagging(text: string): Array<{ Key: string; Value: string }> {
  const tags = [...new URLSearchParams(text)].map(([Key, Value]) => ({ Key, Value }));
  if (tags.length > 10) throw new AwsError('BadRequest', `Object tags cannot be greater than 10 (got ${tags.length})`, 400);
  for (const tag of tags) {
    if (!tag.Key || tag.Key.length > 128 || tag.Value.length > 256) throw new AwsError('InvalidTag', `The tag ${JSON.stringify(tag.Key)} is not valid: keys are 1–128 characters, values up to 256`, 400, { TagKey: tag.Key });
  }
  if (new Set(tags.map((t) => t.Key)).size !== tags.length) throw new AwsError('InvalidTag', 'Cannot provide multiple Tags with the same key', 400);
  return tags;
}

/** Conditional writes (If-None-Match: * / If-Match on PUT), checked against the object a PUT would replace. */
export function writeConditions(req: IncomingMessage, key: string): ((existing: ObjectHeader | undefined) => void) | undefined {
  const ifNoneMatch = header(req, 'if-none-match');
  const ifMatch = header(req, 'if-match');
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') throw new AwsError('NotImplemented', 'If-None-Match on a PUT accepts only "*"', 501, { Header: 'If-None-Match' });
  return (existing) => {
    if (ifNoneMatch !== undefined && existing) throw s3Errors.preconditionFailed('If-None-Match');
    if (ifMatch !== undefined) {
      if (!existing) throw s3Errors.noSuchKey(key);
      if (!etagMatches(ifMatch, existing.etag)) throw s3Errors.preconditionFailed('If-Match');
    }
  };
}

function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((candidate) => {
    const c = candidate.trim().replace(/^W\//, '');
    return c === '*' || c.replace(/^"|"$/g, '') === etag;
  });
}

/** Whether the client of `req` has disconnected (then its write must not be published). */
export function clientGone(req: IncomingMessage): () => boolean {
  return () => req.socket.destroyed;
}

export async function putObject(store: S3Store, req: IncomingMessage, res: ServerResponse, bucket: string, key: string): Promise<void> {
  store.requireBucket(bucket);
  const fields = headerFieldsFromRequest(req);
  const digests = digestExpectations(req);
  const condition = writeConditions(req, key);
  const body = requestBody(req);
  const started = Date.now();
  const initial: ObjectHeader = { key, size: body.length, etag: '0'.repeat(32), lastModified: started, ...fields };
  const temp = store.tempFile();
  const written = await writeObjectFile(temp, initial, body, digests.algorithm ? [digests.algorithm] : [], (received) => {
    const checksum = verifyDigests(digests, received, body.trailers);
    return {
      ...initial,
      size: received.size,
      etag: received.md5.toString('hex'),
      lastModified: Date.now(),
      ...(checksum && digests.algorithm ? { checksum: { algorithm: digests.algorithm, value: checksum, type: 'FULL_OBJECT' as const } } : {}),
    };
  });
  await store.commit(bucket, key, temp, written, { check: condition, abandoned: clientGone(req) });
  const headers: Record<string, string> = { etag: `"${written.etag}"`, 'content-length': '0' };
  if (written.checksum) {
    headers[checksumHeader(written.checksum.algorithm)] = written.checksum.value;
    headers['x-amz-checksum-type'] = written.checksum.type;
  }
  res.writeHead(200, headers).end();
}

/** Headers S3 sends for an object on GET and HEAD. */
function objectHeaders(h: ObjectHeader, query: URLSearchParams): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': query.get('response-content-type') ?? h.contentType,
    etag: `"${h.etag}"`,
    'last-modified': new Date(h.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
  };
  const optional: Array<[string, string | undefined, string]> = [
    ['content-encoding', h.contentEncoding, 'response-content-encoding'],
    ['content-disposition', h.contentDisposition, 'response-content-disposition'],
    ['content-language', h.contentLanguage, 'response-content-language'],
    ['cache-control', h.cacheControl, 'response-cache-control'],
    ['expires', h.expires, 'response-expires'],
  ];
  for (const [name, value, override] of optional) {
    const chosen = query.get(override) ?? value;
    if (chosen !== undefined && chosen !== null) headers[name] = chosen;
  }
  for (const [name, value] of Object.entries(h.metadata)) headers[`x-amz-meta-${name}`] = value;
  if (h.storageClass) headers['x-amz-storage-class'] = h.storageClass;
  if (h.tagging) headers['x-amz-tagging-count'] = String(new URLSearchParams(h.tagging).size);
  return headers;
}

/**
 * GET/HEAD conditions in S3's precedence: If-Match (412) overrides If-Unmodified-Since; If-None-Match
 * (304) overrides If-Modified-Since. Dates compare at second precision, as HTTP dates carry.
 */
function checkReadConditions(req: IncomingMessage, h: ObjectHeader): 304 | undefined {
  const seconds = Math.floor(h.lastModified / 1000);
  const date = (name: string): number | undefined => {
    const value = header(req, name);
    if (value === undefined) return undefined;
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : Math.floor(parsed / 1000);
  };
  const ifMatch = header(req, 'if-match');
  const ifNoneMatch = header(req, 'if-none-match');
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, h.etag)) throw s3Errors.preconditionFailed('If-Match');
  } else {
    const since = date('if-unmodified-since');
    if (since !== undefined && seconds > since) throw s3Errors.preconditionFailed('If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, h.etag)) return 304;
  } else {
    const since = date('if-modified-since');
    if (since !== undefined && seconds <= since) return 304;
  }
  return undefined;
}

/** A single `bytes=` range, resolved against `size`; undefined for no (or an ignorable) Range header. */
export function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  // Several ranges, or a syntax S3 does not know: the whole object, as S3 answers.
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) throw s3Errors.invalidRange(value, size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== '' && Number(match[2]) < start) return undefined;
  if (start >= size) throw s3Errors.invalidRange(value, size);
  return { start, end };
}

export async function getObject(store: S3Store, req: IncomingMessage, res: ServerResponse, bucket: string, target: S3Target, headOnly: boolean): Promise<void> {
  store.requireBucket(bucket);
  const opened = await store.open(bucket, target.key);
  if (!opened) throw s3Errors.noSuchKey(target.key);
  let streaming = false;
  try {
    const h = opened.header;
    if (checkReadConditions(req, h) === 304) {
      res.writeHead(304, { etag: `"${h.etag}"`, 'last-modified': new Date(h.lastModified).toUTCString() }).end();
      return;
    }
    const headers = objectHeaders(h, target.query);
    let range: { start: number; end: number } | undefined;
    const partNumber = target.query.get('partNumber');
    if (partNumber !== null) {
      range = partRange(h, partNumber);
      headers['x-amz-mp-parts-count'] = String(h.parts?.length ?? 1);
    } else {
      range = parseRange(header(req, 'range'), h.size);
    }
    let status = 200;
    if (range) {
      status = 206;
      headers['content-range'] = `bytes ${range.start}-${range.end}/${h.size}`;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? h.size - 1;
    const length = Math.max(0, end - start + 1);
    headers['content-length'] = String(length);
    if (!range && h.checksum && header(req, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
      headers[checksumHeader(h.checksum.algorithm)] = h.checksum.value;
      headers['x-amz-checksum-type'] = h.checksum.type;
    }
    if (headOnly) {
      res.writeHead(status, headers).end();
      return;
    }
    if (end < opened.head.length) {
      res.writeHead(status, headers).end(opened.head.subarray(start, end + 1));
      return;
    }
    res.writeHead(status, headers);
    streaming = true;
    await sendStream(opened.stream(start, end, true), res);
  } finally {
    if (!streaming) opened.close();
  }
}

async function sendStream(stream: Readable, res: ServerResponse): Promise<void> {
  try {
    await pipeline(stream, res);
  } catch (error) {
    // The client went away mid-body (or the disk failed): nothing more can be said on this response.
    res.destroy(error as Error);
  }
}

/** The byte range of part `n` of a multipart object (`partNumber=n`); part 1 of a simple object is all of it. */
function partRange(h: ObjectHeader, value: string): { start: number; end: number } | undefined {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 10000)) throw s3Errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', value);
  if (!h.parts) {
    if (n !== 1) throw s3Errors.invalidPart(n, 'does not exist: the object was not uploaded in parts');
    return undefined;
  }
  if (n > h.parts.length) throw s3Errors.invalidPart(n, `does not exist: the object has ${h.parts.length} parts`);
  const start = h.parts.slice(0, n - 1).reduce((a, b) => a + b, 0);
  return { start, end: start + h.parts[n - 1] - 1 };
}

export async function deleteObject(store: S3Store, res: ServerResponse, bucket: string, key: string): Promise<void> {
  store.requireBucket(bucket);
  await store.deleteObject(bucket, key);
  res.writeHead(204).end();
}

/** Checks `x-amz-copy-source-if-*` against the source (412 PreconditionFailed). */
function checkCopyConditions(req: IncomingMessage, h: ObjectHeader): void {
  const seconds = Math.floor(h.lastModified / 1000);
  const date = (name: string) => {
    const value = header(req, name);
    const parsed = value === undefined ? NaN : Date.parse(value);
    return Number.isNaN(parsed) ? undefined : Math.floor(parsed / 1000);
  };
  const ifMatch = header(req, 'x-amz-copy-source-if-match');
  const ifNoneMatch = header(req, 'x-amz-copy-source-if-none-match');
  if (ifMatch !== undefined && !etagMatches(ifMatch, h.etag)) throw s3Errors.preconditionFailed('x-amz-copy-source-If-Match');
  if (ifMatch === undefined) {
    const since = date('x-amz-copy-source-if-unmodified-since');
    if (since !== undefined && seconds > since) throw s3Errors.preconditionFailed('x-amz-copy-source-If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, h.etag)) throw s3Errors.preconditionFailed('x-amz-copy-source-If-None-Match');
  if (ifNoneMatch === undefined) {
    const since = date('x-amz-copy-source-if-modified-since');
    if (since !== undefined && seconds <= since) throw s3Errors.preconditionFailed('x-amz-copy-source-If-Modified-Since');
  }
}

/** Opens the object named by `x-amz-copy-source`, checking its conditions; the caller closes it. */
export async function openCopySource(store: S3Store, req: IncomingMessage): Promise<{ bucket: string; key: string; opened: OpenObjectFile }> {
  const source = parseCopySource(header(req, 'x-amz-copy-source') ?? '');
  store.requireBucket(source.bucket);
  const opened = await store.open(source.bucket, source.key);
  if (!opened) throw s3Errors.noSuchKey(source.key);
  try {
    checkCopyConditions(req, opened.header);
  } catch (error) {
    opened.close();
    throw error;
  }
  return { ...source, opened };
}

/** The bytes `[start, end]` of an opened object, as chunks (from memory when the first read got them). */
export function bodyChunks(opened: OpenObjectFile, start: number, end: number): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  if (end < start) return [];
  if (end < opened.head.length) return [opened.head.subarray(start, end + 1)];
  return opened.stream(start, end, false);
}

export async function copyObject(store: S3Store, req: IncomingMessage, res: ServerResponse, bucket: string, key: string): Promise<void> {
  store.requireBucket(bucket);
  const directive = header(req, 'x-amz-metadata-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE') throw s3Errors.invalidArgument(`Unknown metadata directive ${JSON.stringify(directive)}`, 'x-amz-metadata-directive', directive);
  const taggingDirective = header(req, 'x-amz-tagging-directive') ?? 'COPY';
  if (taggingDirective !== 'COPY' && taggingDirective !== 'REPLACE') throw s3Errors.invalidArgument(`Unknown tagging directive ${JSON.stringify(taggingDirective)}`, 'x-amz-tagging-directive', taggingDirective);
  const requested = headerFieldsFromRequest(req);
  const digests = digestExpectations(req);
  const condition = writeConditions(req, key);
  const source = await openCopySource(store, req);
  try {
    const s = source.opened.header;
    const sameObject = source.bucket === bucket && source.key === key;
    const changesSomething = directive === 'REPLACE' || header(req, 'x-amz-storage-class') !== undefined || digests.algorithm !== undefined || header(req, 'x-amz-server-side-encryption') !== undefined || header(req, 'x-amz-website-redirect-location') !== undefined;
    if (sameObject && !changesSomething) {
      throw s3Errors.invalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
    }
    const fields =
      directive === 'REPLACE'
        ? { ...requested, tagging: taggingDirective === 'REPLACE' ? requested.tagging : s.tagging }
        : {
            contentType: s.contentType,
            contentEncoding: s.contentEncoding,
            contentDisposition: s.contentDisposition,
            contentLanguage: s.contentLanguage,
            cacheControl: s.cacheControl,
            expires: s.expires,
            metadata: s.metadata,
            storageClass: requested.storageClass ?? s.storageClass,
            tagging: taggingDirective === 'REPLACE' ? requested.tagging : s.tagging,
          };
    const initial: ObjectHeader = { key, size: s.size, etag: '0'.repeat(32), lastModified: Date.now(), ...fields };
    const temp = store.tempFile();
    const algorithm = digests.algorithm ?? s.checksum?.algorithm;
    const written = await writeObjectFile(temp, initial, { chunks: bodyChunks(source.opened, 0, s.size - 1), length: s.size }, algorithm ? [algorithm] : [], (received) => ({
      ...initial,
      etag: received.md5.toString('hex'),
      lastModified: Date.now(),
      ...(algorithm ? { checksum: { algorithm, value: receivedChecksum(received, algorithm), type: 'FULL_OBJECT' as const } } : {}),
    }));
    await store.commit(bucket, key, temp, written, { check: condition, abandoned: clientGone(req) });
    const checksum = written.checksum ? { [`Checksum${written.checksum.algorithm}`]: written.checksum.value, ChecksumType: written.checksum.type } : {};
    sendXml(res, 200, 'CopyObjectResult', { ETag: `"${written.etag}"`, LastModified: isoSeconds(written.lastModified), ...checksum });
  } finally {
    source.opened.close();
  }
}
