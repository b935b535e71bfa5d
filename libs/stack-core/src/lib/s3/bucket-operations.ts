import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsError } from '../aws-error';
import type { RequestContext } from '../gateway/request-context';
import { readBody } from '../protocol/body';
import type { XmlNode } from '../protocol/xml';
import { checksumHeader, CHECKSUM_ALGORITHMS, createChecksum, isChecksumValue } from './checksums';
import { listPage, MAX_LIST_KEYS, type ListPage } from './listing';
import { bucketNameProblem, MAX_KEY_BYTES } from './names';
import { s3Errors } from './s3-errors';
import { isoSeconds, OWNER, renderEntries, sendXml, urlEncodeKey } from './s3-xml';
import type { S3Store } from './store';
import { child, childrenNamed, parseXml, XmlSyntaxError, type XmlElement } from './xml-parse';

/** Request documents (`<Delete>` of 1000 keys, `<CompleteMultipartUpload>` of 10 000 parts) fit in this. */
export const MAX_XML_BODY_BYTES = 4 * 1024 * 1024;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Reads and parses an XML request body (MalformedXML naming the problem). Undefined when empty. */
export async function readXmlBody(req: IncomingMessage): Promise<{ root: XmlElement; raw: Buffer } | undefined> {
  const raw = await readBody(req, MAX_XML_BODY_BYTES).catch((error: unknown) => {
    if (error instanceof AwsError && error.status === 413) throw s3Errors.malformedXml(`the document is larger than ${MAX_XML_BODY_BYTES} bytes`);
    throw error;
  });
  if (raw.length === 0 || raw.toString('utf8').trim() === '') return undefined;
  try {
    return { root: parseXml(raw.toString('utf8')), raw };
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw s3Errors.malformedXml(error.message);
    throw error;
  }
}

export function listBuckets(store: S3Store, res: ServerResponse, query: URLSearchParams): void {
  const prefix = query.get('prefix') ?? '';
  const buckets = store.buckets().filter((b) => b.name.startsWith(prefix));
  sendXml(res, 200, 'ListAllMyBucketsResult', {
    Owner: OWNER,
    Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: isoSeconds(Date.parse(b.createdAt)), BucketRegion: b.region })) },
    ...(prefix ? { Prefix: prefix } : {}),
  });
}

/**
 * CreateBucket. Creating a bucket you already own answers 200 in us-east-1 and
 * BucketAlreadyOwnedByYou (409) in every other region, as S3 does.
 */
export async function createBucket(store: S3Store, req: IncomingMessage, res: ServerResponse, bucket: string, ctx: RequestContext): Promise<void> {
  const problem = bucketNameProblem(bucket);
  if (problem) throw s3Errors.invalidBucketName(bucket, problem);
  const document = await readXmlBody(req);
  let region = ctx.region;
  if (document) {
    if (document.root.name !== 'CreateBucketConfiguration') throw s3Errors.malformedXml(`expected <CreateBucketConfiguration>, got <${document.root.name}>`);
    const constraint = child(document.root, 'LocationConstraint')?.text.trim();
    if (constraint) {
      if (!/^[a-z]{2}(-[a-z]+)+-\d$|^EU$/.test(constraint)) {
        throw new AwsError('InvalidLocationConstraint', `The specified location-constraint is not valid: ${JSON.stringify(constraint)}`, 400, { LocationConstraint: constraint });
      }
      region = constraint === 'EU' ? 'eu-west-1' : constraint;
    }
  }
  const created = await store.createBucket(bucket, region);
  if (!created && ctx.region !== 'us-east-1') throw s3Errors.bucketAlreadyOwnedByYou(bucket);
  res.writeHead(200, { location: `/${bucket}`, 'content-length': '0' }).end();
}

export function headBucket(store: S3Store, res: ServerResponse, bucket: string): void {
  const record = store.requireBucket(bucket);
  res.writeHead(200, { 'x-amz-bucket-region': record.region, 'x-amz-access-point-alias': 'false', 'content-length': '0' }).end();
}

export function getBucketLocation(store: S3Store, res: ServerResponse, bucket: string): void {
  const record = store.requireBucket(bucket);
  // us-east-1 is the empty LocationConstraint, for historical reasons every SDK knows.
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${record.region === 'us-east-1' ? '' : record.region}</LocationConstraint>`;
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(xml)) }).end(xml);
}

const TOKEN_PREFIX = 'scones-s3:1:';

export function encodeContinuationToken(after: string): string {
  return Buffer.from(`${TOKEN_PREFIX}${after}`, 'utf8').toString('base64url');
}

export function decodeContinuationToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!/^[A-Za-z0-9_-]+$/.test(token) || !text.startsWith(TOKEN_PREFIX)) throw s3Errors.invalidArgument('The continuation token provided is incorrect', 'continuation-token', token.slice(0, 200));
  return text.slice(TOKEN_PREFIX.length);
}

function maxKeysOf(query: URLSearchParams, name: string): number {
  const value = query.get(name);
  if (value === null) return MAX_LIST_KEYS;
  if (!/^\d{1,10}$/.test(value)) throw s3Errors.invalidArgument(`Provided ${name} not an integer or within integer range`, name, value.slice(0, 40));
  return Math.min(Number(value), MAX_LIST_KEYS);
}

function encodingOf(query: URLSearchParams): ((text: string) => string) | undefined {
  const value = query.get('encoding-type');
  if (value === null) return undefined;
  if (value !== 'url') throw s3Errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', value);
  return urlEncodeKey;
}

/** The `<Contents>` and `<CommonPrefixes>` of a listing page, rendered. */
function entriesOf(page: ListPage, encode: (text: string) => string, withOwner: boolean): string {
  const contents = page.objects.map((o) => ({
    Key: encode(o.key),
    LastModified: isoSeconds(o.lastModified),
    ETag: `"${o.etag}"`,
    ChecksumAlgorithm: o.checksumAlgorithm,
    ChecksumType: o.checksumType,
    Size: o.size,
    Owner: withOwner ? OWNER : undefined,
    StorageClass: o.storageClass ?? 'STANDARD',
  }));
  return renderEntries('Contents', contents) + renderEntries('CommonPrefixes', page.commonPrefixes.map((p) => ({ Prefix: encode(p) })));
}

function validatePrefixes(prefix: string, delimiter: string): void {
  if (Buffer.byteLength(prefix) > MAX_KEY_BYTES) throw s3Errors.keyTooLong(Buffer.byteLength(prefix));
  if (Buffer.byteLength(delimiter) > MAX_KEY_BYTES) throw s3Errors.invalidArgument('The delimiter is too long', 'delimiter', delimiter.slice(0, 40));
}

/** ListObjectsV2 (`list-type=2`). The continuation token stands for the last key or prefix returned. */
export async function listObjectsV2(store: S3Store, res: ServerResponse, bucket: string, query: URLSearchParams): Promise<void> {
  store.requireBucket(bucket);
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  validatePrefixes(prefix, delimiter);
  const maxKeys = maxKeysOf(query, 'max-keys');
  const encoding = encodingOf(query);
  const encode = encoding ?? ((t: string) => t);
  const token = query.get('continuation-token');
  const startAfter = query.get('start-after') ?? '';
  const after = token !== null ? decodeContinuationToken(token) : startAfter;
  const page = listPage(await store.index(bucket), { prefix, delimiter, after, maxKeys });
  sendXml(res, 200, 'ListBucketResult', {
    Name: bucket,
    Prefix: encode(prefix),
    Delimiter: delimiter ? encode(delimiter) : undefined,
    MaxKeys: query.get('max-keys') === null ? MAX_LIST_KEYS : maxKeys,
    KeyCount: page.objects.length + page.commonPrefixes.length,
    IsTruncated: page.isTruncated,
    EncodingType: encoding ? 'url' : undefined,
    ContinuationToken: token ?? undefined,
    NextContinuationToken: page.isTruncated && page.last !== undefined ? encodeContinuationToken(page.last) : undefined,
    StartAfter: startAfter ? encode(startAfter) : undefined,
  }, {}, entriesOf(page, encode, query.get('fetch-owner') === 'true'));
}

/** ListObjects (V1, `marker`). NextMarker is given only with a delimiter, as S3 does. */
export async function listObjectsV1(store: S3Store, res: ServerResponse, bucket: string, query: URLSearchParams): Promise<void> {
  store.requireBucket(bucket);
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  validatePrefixes(prefix, delimiter);
  const maxKeys = maxKeysOf(query, 'max-keys');
  const encoding = encodingOf(query);
  const encode = encoding ?? ((t: string) => t);
  const marker = query.get('marker') ?? '';
  const page = listPage(await store.index(bucket), { prefix, delimiter, after: marker, maxKeys });
  sendXml(res, 200, 'ListBucketResult', {
    Name: bucket,
    Prefix: encode(prefix),
    Marker: encode(marker),
    NextMarker: delimiter && page.isTruncated && page.last !== undefined ? encode(page.last) : undefined,
    MaxKeys: query.get('max-keys') === null ? MAX_LIST_KEYS : maxKeys,
    Delimiter: delimiter ? encode(delimiter) : undefined,
    IsTruncated: page.isTruncated,
    EncodingType: encoding ? 'url' : undefined,
  }, {}, entriesOf(page, encode, true));
}

/** Checks Content-MD5 or an x-amz-checksum-* header of a small body S3 requires one for (DeleteObjects). */
function verifyRequiredDigest(req: IncomingMessage, raw: Buffer, operation: string): void {
  const md5 = header(req, 'content-md5');
  const algorithm = CHECKSUM_ALGORITHMS.find((a) => req.headers[checksumHeader(a)] !== undefined);
  if (md5 === undefined && !algorithm) throw s3Errors.invalidRequest(`Missing required header for this request: Content-MD5 or x-amz-checksum-* (${operation})`);
  if (md5 !== undefined) {
    if (!/^[A-Za-z0-9+/]{22}==$/.test(md5)) throw s3Errors.invalidDigest('Content-MD5');
    if (createHash('md5').update(raw).digest('base64') !== md5) throw s3Errors.badDigest('Content-MD5');
  }
  if (algorithm) {
    const value = header(req, checksumHeader(algorithm)) ?? '';
    if (!isChecksumValue(algorithm, value)) throw s3Errors.invalidRequest(`Value for ${checksumHeader(algorithm)} header is invalid.`);
    const hasher = createChecksum(algorithm);
    hasher.update(raw);
    if (hasher.digest().toString('base64') !== value) throw s3Errors.badDigest(algorithm);
  }
}

/** DeleteObjects (`POST ?delete`): up to 1000 keys; `Quiet` reports only the failures. */
export async function deleteObjects(store: S3Store, req: IncomingMessage, res: ServerResponse, bucket: string): Promise<void> {
  store.requireBucket(bucket);
  const document = await readXmlBody(req);
  if (!document) throw s3Errors.malformedXml('the request has no <Delete> document');
  verifyRequiredDigest(req, document.raw, 'DeleteObjects');
  if (document.root.name !== 'Delete') throw s3Errors.malformedXml(`expected <Delete>, got <${document.root.name}>`);
  const quiet = child(document.root, 'Quiet')?.text.trim() === 'true';
  const objects = childrenNamed(document.root, 'Object');
  if (objects.length === 0) throw s3Errors.malformedXml('<Delete> lists no <Object>');
  if (objects.length > 1000) throw s3Errors.malformedXml(`<Delete> lists ${objects.length} objects; the limit is 1000`);
  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  for (const object of objects) {
    const keyElement = child(object, 'Key');
    if (!keyElement) throw s3Errors.malformedXml('an <Object> has no <Key>');
    const key = keyElement.text;
    const bytes = Buffer.byteLength(key);
    if (bytes === 0 || bytes > MAX_KEY_BYTES) {
      errors.push({ Key: key, Code: bytes ? 'KeyTooLongError' : 'InvalidArgument', Message: bytes ? 'Your key is too long' : 'The key is empty' });
      continue;
    }
    try {
      await store.deleteObject(bucket, key);
      if (!quiet) deleted.push({ Key: key });
    } catch (error) {
      const aws = error instanceof AwsError ? error : new AwsError('InternalError', (error as Error).message, 500);
      errors.push({ Key: key, Code: aws.code, Message: aws.message });
    }
  }
  sendXml(res, 200, 'DeleteResult', { Deleted: deleted, Error: errors });
}
