import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Logger } from '../json-logger';
import { writeFileAtomic } from '../store/atomic-file';
import type { XmlNode } from '../protocol/xml';
import { readXmlBody } from './bucket-operations';
import { checksumHeader, CHECKSUM_ALGORITHMS, createChecksum, isChecksumValue, parseChecksumAlgorithm, type ChecksumAlgorithm } from './checksums';
import { KeyedMutex } from './keyed-mutex';
import { listPage } from './listing';
import { KeyIndex } from './key-index';
import { openObjectFile, readObjectHeaderSync, type ObjectHeader } from './object-file';
import { bodyChunks, clientGone, headerFieldsFromRequest, openCopySource, writeConditions } from './object-operations';
import { receivedChecksum, writeObjectFile } from './object-writer';
import { digestExpectations, MAX_PUT_BYTES, requestBody, verifyDigests } from './request-body';
import { s3Errors } from './s3-errors';
import { isoSeconds, OWNER, sendXml } from './s3-xml';
import { ClientGoneError, type S3Store } from './store';
import { child, childrenNamed } from './xml-parse';

/** S3's floor for every part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PARTS = 10_000;

interface UploadRecord {
  uploadId: string;
  bucket: string;
  key: string;
  /** ms since the epoch. */
  initiated: number;
  fields: Omit<ObjectHeader, 'key' | 'size' | 'etag' | 'lastModified'>;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT';
}

const UPLOAD_ID = /^[0-9a-f]{32}$/;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Multipart uploads in progress, under `<dataDir>/s3/uploads/<upload id>/`: `upload.json` and one
 * object file per part (`part-00001`…). Upload ids are ours (32 hex), checked before they touch a
 * path. A part is written to `tmp/` and renamed in, so a part too is whole or absent.
 */
export class MultipartUploads {
  private readonly uploads = new Map<string, UploadRecord>();
  readonly locks = new KeyedMutex();

  constructor(
    private readonly store: S3Store,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    for (const id of await readdir(this.store.uploadsDirectory)) {
      const directory = join(this.store.uploadsDirectory, id);
      try {
        if (!UPLOAD_ID.test(id)) throw new Error('not an upload id');
        const record = JSON.parse(await readFile(join(directory, 'upload.json'), 'utf8')) as UploadRecord;
        if (record.uploadId !== id) throw new Error('upload.json names another upload');
        if (!this.store.bucket(record.bucket)) throw new Error(`its bucket ${record.bucket} is gone`);
        this.uploads.set(id, record);
      } catch (error) {
        // An upload interrupted before its upload.json was written, or of a deleted bucket.
        this.logger.warn('s3: removing an unusable multipart upload directory', { directory, reason: (error as Error).message });
        await rm(directory, { recursive: true, force: true });
      }
    }
  }

  count(): number {
    return this.uploads.size;
  }

  directory(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new Error(`not an upload id: ${uploadId}`);
    return join(this.store.uploadsDirectory, uploadId);
  }

  partFile(uploadId: string, partNumber: number): string {
    return join(this.directory(uploadId), `part-${String(partNumber).padStart(5, '0')}`);
  }

  /** The upload, which must belong to `bucket`/`key` (NoSuchUpload otherwise). */
  get(bucket: string, key: string, uploadId: string): UploadRecord {
    this.store.requireBucket(bucket);
    const record = UPLOAD_ID.test(uploadId) ? this.uploads.get(uploadId) : undefined;
    if (!record || record.bucket !== bucket || record.key !== key) throw s3Errors.noSuchUpload(uploadId);
    return record;
  }

  list(bucket: string): UploadRecord[] {
    return [...this.uploads.values()].filter((u) => u.bucket === bucket);
  }

  async create(record: Omit<UploadRecord, 'uploadId'>): Promise<UploadRecord> {
    const upload = { uploadId: randomBytes(16).toString('hex'), ...record };
    await mkdir(this.directory(upload.uploadId), { recursive: true });
    await writeFileAtomic(join(this.directory(upload.uploadId), 'upload.json'), `${JSON.stringify(upload)}\n`);
    this.uploads.set(upload.uploadId, upload);
    return upload;
  }

  async remove(uploadId: string): Promise<void> {
    this.uploads.delete(uploadId);
    const doomed = join(this.store.tmpDirectory, `upload-${uploadId}`);
    await rename(this.directory(uploadId), doomed).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rm(doomed, { recursive: true, force: true });
  }

  /** Drops the uploads of a deleted bucket. */
  async removeBucket(bucket: string): Promise<void> {
    for (const upload of this.list(bucket)) await this.locks.run(upload.uploadId, () => this.remove(upload.uploadId));
  }

  /** The parts uploaded so far, by part number. */
  async parts(uploadId: string): Promise<Map<number, ObjectHeader>> {
    const parts = new Map<number, ObjectHeader>();
    const directory = this.directory(uploadId);
    for (const name of await readdir(directory)) {
      const match = /^part-(\d{5})$/.exec(name);
      if (!match) continue;
      const part = readObjectHeaderSync(join(directory, name));
      if (part) parts.set(Number(match[1]), part);
    }
    return parts;
  }
}

function partNumberOf(value: string | null): number {
  const n = value !== null && /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_PARTS)) throw s3Errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', value ?? '');
  return n;
}

export async function createMultipartUpload(store: S3Store, uploads: MultipartUploads, req: IncomingMessage, res: ServerResponse, bucket: string, key: string): Promise<void> {
  store.requireBucket(bucket);
  const fields = headerFieldsFromRequest(req);
  const named = header(req, 'x-amz-checksum-algorithm');
  const checksumAlgorithm = named !== undefined ? parseChecksumAlgorithm(named) : undefined;
  if (named !== undefined && !checksumAlgorithm) throw s3Errors.invalidRequest(`Checksum algorithm ${JSON.stringify(named)} is not one of ${CHECKSUM_ALGORITHMS.join(', ')}.`);
  const typeHeader = header(req, 'x-amz-checksum-type')?.toUpperCase();
  if (typeHeader !== undefined && typeHeader !== 'COMPOSITE' && typeHeader !== 'FULL_OBJECT') throw s3Errors.invalidRequest(`x-amz-checksum-type must be COMPOSITE or FULL_OBJECT, not ${JSON.stringify(typeHeader)}`);
  if (typeHeader && !checksumAlgorithm) throw s3Errors.invalidRequest('x-amz-checksum-type requires x-amz-checksum-algorithm');
  let checksumType: 'COMPOSITE' | 'FULL_OBJECT' | undefined;
  if (checksumAlgorithm) {
    // S3's defaults: the CRCs combine over the whole object; SHA digests can only be composite.
    checksumType = (typeHeader as 'COMPOSITE' | 'FULL_OBJECT' | undefined) ?? (checksumAlgorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');
    if (checksumType === 'FULL_OBJECT' && checksumAlgorithm.startsWith('SHA')) throw s3Errors.invalidRequest(`The FULL_OBJECT checksum type cannot be used with the ${checksumAlgorithm} algorithm.`);
    if (checksumType === 'COMPOSITE' && checksumAlgorithm === 'CRC64NVME') throw s3Errors.invalidRequest('The COMPOSITE checksum type cannot be used with the CRC64NVME algorithm.');
  }
  const upload = await uploads.create({ bucket, key, initiated: Date.now(), fields, checksumAlgorithm, checksumType });
  const headers: Record<string, string> = {};
  if (checksumAlgorithm) {
    headers['x-amz-checksum-algorithm'] = checksumAlgorithm;
    headers['x-amz-checksum-type'] = checksumType ?? 'COMPOSITE';
  }
  sendXml(res, 200, 'InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: upload.uploadId }, headers);
}

/** UploadPart, or UploadPartCopy when `x-amz-copy-source` is given. */
export async function uploadPart(store: S3Store, uploads: MultipartUploads, req: IncomingMessage, res: ServerResponse, bucket: string, key: string, query: URLSearchParams): Promise<void> {
  const partNumber = partNumberOf(query.get('partNumber'));
  const uploadId = query.get('uploadId') ?? '';
  const upload = uploads.get(bucket, key, uploadId);
  const copying = req.headers['x-amz-copy-source'] !== undefined;
  const temp = store.tempFile();
  const initial: ObjectHeader = { key, size: 0, etag: '0'.repeat(32), lastModified: Date.now(), contentType: '', metadata: {} };
  const algorithm = upload.checksumAlgorithm;
  let written: ObjectHeader;
  if (copying) {
    const source = await openCopySource(store, req);
    try {
      const size = source.opened.header.size;
      const rangeHeader = header(req, 'x-amz-copy-source-range');
      let start = 0;
      let end = size - 1;
      if (rangeHeader !== undefined) {
        const match = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader.trim());
        if (!match) throw s3Errors.invalidArgument('The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', 'x-amz-copy-source-range', rangeHeader);
        start = Number(match[1]);
        end = Number(match[2]);
        if (start > end || end >= size) throw s3Errors.invalidArgument(`Range specified is not valid for source object of size: ${size}`, 'x-amz-copy-source-range', rangeHeader);
      }
      const length = end - start + 1;
      if (length > MAX_PUT_BYTES) throw s3Errors.entityTooLarge(length, MAX_PUT_BYTES);
      written = await writeObjectFile(temp, { ...initial, size: length }, { chunks: bodyChunks(source.opened, start, end), length }, algorithm ? [algorithm] : [], (received) => ({
        ...initial,
        size: received.size,
        etag: received.md5.toString('hex'),
        lastModified: Date.now(),
        ...(algorithm ? { checksum: { algorithm, value: receivedChecksum(received, algorithm), type: 'FULL_OBJECT' as const } } : {}),
      }));
    } finally {
      source.opened.close();
    }
  } else {
    const digests = digestExpectations(req);
    if (algorithm && digests.algorithm && digests.algorithm !== algorithm) {
      throw s3Errors.invalidRequest(`Checksum Type mismatch occurred, expected checksum Type: ${algorithm.toLowerCase()}, actual checksum Type: ${digests.algorithm.toLowerCase()}`);
    }
    const body = requestBody(req);
    const chosen = digests.algorithm ?? algorithm;
    written = await writeObjectFile(temp, { ...initial, size: body.length }, body, chosen ? [chosen] : [], (received) => {
      const verified = verifyDigests(digests, received, body.trailers);
      const value = verified ?? (chosen ? receivedChecksum(received, chosen) : undefined);
      return {
        ...initial,
        size: received.size,
        etag: received.md5.toString('hex'),
        lastModified: Date.now(),
        ...(chosen && value ? { checksum: { algorithm: chosen, value, type: 'FULL_OBJECT' as const } } : {}),
      };
    });
  }
  try {
    await uploads.locks.run(uploadId, async () => {
      uploads.get(bucket, key, uploadId); // aborted or completed meanwhile?
      if (req.socket.destroyed) throw new ClientGoneError(`the client of UploadPart ${partNumber} of ${uploadId} went away before it was stored`);
      await rename(temp, uploads.partFile(uploadId, partNumber));
    });
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  const headers: Record<string, string> = {};
  if (written.checksum) headers[checksumHeader(written.checksum.algorithm)] = written.checksum.value;
  if (copying) {
    const checksum = written.checksum ? { [`Checksum${written.checksum.algorithm}`]: written.checksum.value } : {};
    sendXml(res, 200, 'CopyPartResult', { ETag: `"${written.etag}"`, LastModified: isoSeconds(written.lastModified), ...checksum }, headers);
  } else {
    res.writeHead(200, { ...headers, etag: `"${written.etag}"`, 'content-length': '0' }).end();
  }
}

export async function completeMultipartUpload(store: S3Store, uploads: MultipartUploads, req: IncomingMessage, res: ServerResponse, bucket: string, key: string, query: URLSearchParams): Promise<void> {
  const uploadId = query.get('uploadId') ?? '';
  uploads.get(bucket, key, uploadId);
  const condition = writeConditions(req, key);
  const document = await readXmlBody(req);
  if (!document) throw s3Errors.malformedXml('the request has no <CompleteMultipartUpload> document');
  if (document.root.name !== 'CompleteMultipartUpload') throw s3Errors.malformedXml(`expected <CompleteMultipartUpload>, got <${document.root.name}>`);
  const listed = childrenNamed(document.root, 'Part').map((part) => {
    const number = child(part, 'PartNumber')?.text.trim();
    const etag = child(part, 'ETag')?.text.trim();
    if (!number || !/^\d{1,5}$/.test(number)) throw s3Errors.malformedXml('a <Part> has no valid <PartNumber>');
    if (!etag) throw s3Errors.malformedXml(`part ${number} has no <ETag>`);
    const checksums = new Map<ChecksumAlgorithm, string>();
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const value = child(part, `Checksum${algorithm}`)?.text.trim();
      if (value) checksums.set(algorithm, value);
    }
    return { partNumber: Number(number), etag: etag.replace(/^"|"$/g, ''), checksums };
  });
  if (listed.length === 0) throw s3Errors.invalidRequest('You must specify at least one part');
  for (let i = 1; i < listed.length; i++) if (listed[i].partNumber <= listed[i - 1].partNumber) throw s3Errors.invalidPartOrder();

  const result = await uploads.locks.run(uploadId, async () => {
    const upload = uploads.get(bucket, key, uploadId);
    const stored = await uploads.parts(uploadId);
    const chosen = listed.map(({ partNumber, etag, checksums }) => {
      const part = stored.get(partNumber);
      if (!part) throw s3Errors.invalidPart(partNumber, 'was not uploaded');
      if (part.etag !== etag) throw s3Errors.invalidPart(partNumber, `has ETag "${part.etag}", not "${etag}"`);
      for (const [algorithm, value] of checksums) {
        if (part.checksum?.algorithm !== algorithm || part.checksum.value !== value) throw s3Errors.invalidPart(partNumber, `has no ${algorithm} checksum ${value}`);
      }
      return { partNumber, part };
    });
    for (const { partNumber, part } of chosen.slice(0, -1)) {
      if (part.size < MIN_PART_BYTES) throw s3Errors.entityTooSmall(partNumber, part.size, MIN_PART_BYTES);
    }
    const size = chosen.reduce((sum, c) => sum + c.part.size, 0);
    const declared = header(req, 'x-amz-mp-object-size');
    if (declared !== undefined && Number(declared) !== size) throw s3Errors.invalidRequest(`x-amz-mp-object-size ${declared} does not match the ${size} bytes of the parts`);
    const etagHash = createHash('md5');
    for (const { part } of chosen) etagHash.update(Buffer.from(part.etag, 'hex'));
    const etag = `${etagHash.digest('hex')}-${chosen.length}`;
    const algorithm = upload.checksumAlgorithm;
    let composite: string | undefined;
    if (algorithm && upload.checksumType === 'COMPOSITE') {
      const hasher = createChecksum(algorithm);
      for (const { partNumber, part } of chosen) {
        if (part.checksum?.algorithm !== algorithm) throw s3Errors.invalidPart(partNumber, `was uploaded without the upload's ${algorithm} checksum`);
        hasher.update(Buffer.from(part.checksum.value, 'base64'));
      }
      composite = `${hasher.digest().toString('base64')}-${chosen.length}`;
    }
    const initial: ObjectHeader = { key, size, etag, lastModified: Date.now(), ...upload.fields, parts: chosen.map((c) => c.part.size) };
    const fullObject = algorithm && upload.checksumType === 'FULL_OBJECT' ? algorithm : undefined;
    const temp = store.tempFile();
    async function* concatenated(): AsyncGenerator<Uint8Array> {
      for (const { partNumber } of chosen) {
        const opened = await openObjectFile(uploads.partFile(uploadId, partNumber));
        if (!opened) throw s3Errors.invalidPart(partNumber, 'disappeared during completion');
        try {
          yield* bodyChunks(opened, 0, opened.header.size - 1);
        } finally {
          opened.close();
        }
      }
    }
    const written = await writeObjectFile(temp, initial, { chunks: concatenated(), length: size }, fullObject ? [fullObject] : [], (received) => ({
      ...initial,
      lastModified: Date.now(),
      ...(composite && algorithm ? { checksum: { algorithm, value: composite, type: 'COMPOSITE' as const } } : {}),
      ...(fullObject ? { checksum: { algorithm: fullObject, value: receivedChecksum(received, fullObject), type: 'FULL_OBJECT' as const } } : {}),
    }));
    if (fullObject) {
      const expected = header(req, checksumHeader(fullObject));
      if (expected !== undefined && (!isChecksumValue(fullObject, expected) || expected !== written.checksum?.value)) {
        await rm(temp, { force: true });
        throw s3Errors.badDigest(fullObject);
      }
    }
    await store.commit(bucket, key, temp, written, { check: condition, abandoned: clientGone(req) });
    await uploads.remove(uploadId);
    return written;
  });
  const checksum = result.checksum ? { [`Checksum${result.checksum.algorithm}`]: result.checksum.value, ChecksumType: result.checksum.type } : {};
  sendXml(res, 200, 'CompleteMultipartUploadResult', {
    Location: `/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
    Bucket: bucket,
    Key: key,
    ETag: `"${result.etag}"`,
    ...checksum,
  });
}

export async function abortMultipartUpload(store: S3Store, uploads: MultipartUploads, res: ServerResponse, bucket: string, key: string, query: URLSearchParams): Promise<void> {
  const uploadId = query.get('uploadId') ?? '';
  await uploads.locks.run(uploadId, async () => {
    uploads.get(bucket, key, uploadId);
    await uploads.remove(uploadId);
  });
  res.writeHead(204).end();
}

export async function listParts(store: S3Store, uploads: MultipartUploads, res: ServerResponse, bucket: string, key: string, query: URLSearchParams): Promise<void> {
  const uploadId = query.get('uploadId') ?? '';
  const upload = uploads.get(bucket, key, uploadId);
  const maxParts = query.get('max-parts');
  if (maxParts !== null && !/^\d{1,10}$/.test(maxParts)) throw s3Errors.invalidArgument('Provided max-parts not an integer or within integer range', 'max-parts', maxParts);
  const limit = Math.min(maxParts === null ? 1000 : Number(maxParts), 1000);
  const markerText = query.get('part-number-marker') ?? '0';
  if (!/^\d{1,5}$/.test(markerText)) throw s3Errors.invalidArgument('Provided part-number-marker not an integer or within integer range', 'part-number-marker', markerText);
  const marker = Number(markerText);
  const parts = [...(await uploads.parts(uploadId))].filter(([n]) => n > marker).sort((a, b) => a[0] - b[0]);
  const page = parts.slice(0, limit);
  const isTruncated = parts.length > limit;
  sendXml(res, 200, 'ListPartsResult', {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.length ? page[page.length - 1][0] : undefined,
    MaxParts: limit,
    IsTruncated: isTruncated,
    Part: page.map(([partNumber, part]) => ({
      PartNumber: partNumber,
      LastModified: isoSeconds(part.lastModified),
      ETag: `"${part.etag}"`,
      Size: part.size,
      ...(part.checksum ? { [`Checksum${part.checksum.algorithm}`]: part.checksum.value } : {}),
    })),
    Initiator: OWNER,
    Owner: OWNER,
    StorageClass: upload.fields.storageClass ?? 'STANDARD',
    ChecksumAlgorithm: upload.checksumAlgorithm,
    ChecksumType: upload.checksumType,
  });
}

/** ListMultipartUploads (`GET ?uploads`): by key, then by time initiated, with prefix/delimiter rolls-ups. */
export async function listMultipartUploads(store: S3Store, uploads: MultipartUploads, res: ServerResponse, bucket: string, query: URLSearchParams): Promise<void> {
  store.requireBucket(bucket);
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const keyMarker = query.get('key-marker') ?? '';
  const uploadIdMarker = query.get('upload-id-marker') ?? '';
  const maxText = query.get('max-uploads');
  if (maxText !== null && !/^\d{1,10}$/.test(maxText)) throw s3Errors.invalidArgument('Provided max-uploads not an integer or within integer range', 'max-uploads', maxText);
  const maxUploads = Math.min(maxText === null ? 1000 : Number(maxText), 1000);
  // Group uploads by key in an index of their own, so prefixes and delimiters behave as in listings.
  const byKey = new Map<string, UploadRecord[]>();
  for (const upload of uploads.list(bucket)) byKey.set(upload.key, [...(byKey.get(upload.key) ?? []), upload]);
  const index = new KeyIndex();
  for (const key of byKey.keys()) index.set(key, { size: 0, etag: '', lastModified: 0 });
  const entries: XmlNode[] = [];
  const prefixes: string[] = [];
  let isTruncated = false;
  let nextKey: string | undefined;
  let nextUpload: string | undefined;
  // Uploads of the marker key initiated after upload-id-marker come first.
  const startKeys = uploadIdMarker && keyMarker ? [keyMarker] : [];
  const page = listPage(index, { prefix, delimiter, after: keyMarker, maxKeys: 1000 });
  const keys = [...startKeys, ...page.objects.map((o) => o.key)];
  outer: for (const key of keys) {
    const list = (byKey.get(key) ?? []).sort((a, b) => a.initiated - b.initiated || (a.uploadId < b.uploadId ? -1 : 1));
    let skipping = key === keyMarker && !!uploadIdMarker;
    for (const upload of list) {
      if (skipping) {
        if (upload.uploadId === uploadIdMarker) skipping = false;
        continue;
      }
      if (entries.length + prefixes.length >= maxUploads) {
        isTruncated = true;
        break outer;
      }
      entries.push({ Key: upload.key, UploadId: upload.uploadId, Initiator: OWNER, Owner: OWNER, StorageClass: upload.fields.storageClass ?? 'STANDARD', Initiated: isoSeconds(upload.initiated), ChecksumAlgorithm: upload.checksumAlgorithm, ChecksumType: upload.checksumType });
      nextKey = upload.key;
      nextUpload = upload.uploadId;
    }
  }
  if (!isTruncated) {
    for (const p of page.commonPrefixes) {
      if (entries.length + prefixes.length >= maxUploads) {
        isTruncated = true;
        break;
      }
      prefixes.push(p);
    }
  }
  sendXml(res, 200, 'ListMultipartUploadsResult', {
    Bucket: bucket,
    KeyMarker: keyMarker,
    UploadIdMarker: uploadIdMarker,
    NextKeyMarker: isTruncated ? nextKey : undefined,
    NextUploadIdMarker: isTruncated ? nextUpload : undefined,
    Prefix: prefix || undefined,
    Delimiter: delimiter || undefined,
    MaxUploads: maxUploads,
    IsTruncated: isTruncated,
    Upload: entries,
    CommonPrefixes: prefixes.map((p) => ({ Prefix: p })),
  });
}
