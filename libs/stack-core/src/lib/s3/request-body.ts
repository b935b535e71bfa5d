import type { IncomingMessage } from 'node:http';
import { decodeAwsChunked } from './aws-chunked';
import { checksumHeader, CHECKSUM_ALGORITHMS, isChecksumValue, parseChecksumAlgorithm, type ChecksumAlgorithm } from './checksums';
import { receivedChecksum, type BodySource, type ReceivedBody } from './object-writer';
import { s3Errors } from './s3-errors';

/** S3's limit for one PUT (and one part). */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;

export interface RequestBody extends BodySource {
  /** Trailing headers of an aws-chunked body; complete once `chunks` is consumed. */
  trailers?: Map<string, string>;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function declaredSize(value: string, name: string): number {
  if (!/^\d{1,16}$/.test(value)) throw s3Errors.invalidArgument(`${name} ${JSON.stringify(value.slice(0, 40))} is not a byte count`, name, value.slice(0, 40));
  return Number(value);
}

/**
 * The payload of a PUT, with its size checked against S3's limit before a byte is read: a plain
 * body (Content-Length required, as S3 requires it), or an `aws-chunked` one whose decoded size is
 * `x-amz-decoded-content-length`.
 */
export function requestBody(req: IncomingMessage, maxBytes = MAX_PUT_BYTES): RequestBody {
  const encodings = (header(req, 'content-encoding') ?? '').split(',').map((e) => e.trim().toLowerCase());
  const sha = header(req, 'x-amz-content-sha256') ?? '';
  if (encodings.includes('aws-chunked') || sha.startsWith('STREAMING-')) {
    const decoded = header(req, 'x-amz-decoded-content-length');
    if (decoded === undefined) throw s3Errors.missingContentLength();
    const length = declaredSize(decoded, 'x-amz-decoded-content-length');
    if (length > maxBytes) throw s3Errors.entityTooLarge(length, maxBytes);
    const body = decodeAwsChunked(bodyChunks(req));
    return { chunks: body.chunks, length, trailers: body.trailers };
  }
  const contentLength = header(req, 'content-length');
  if (contentLength === undefined) throw s3Errors.missingContentLength();
  const length = declaredSize(contentLength, 'Content-Length');
  if (length > maxBytes) throw s3Errors.entityTooLarge(length, maxBytes);
  return { chunks: bodyChunks(req), length };
}

/**
 * The request's chunks, without destroying the request when reading stops early (a refused body):
 * destroying it would reset the connection before the client reads S3's error.
 */
function bodyChunks(req: IncomingMessage): AsyncIterable<Buffer> {
  return req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
}

/** The content encoding to store: what the client said, without the transfer-only `aws-chunked`. */
export function storedContentEncoding(req: IncomingMessage): string | undefined {
  const value = header(req, 'content-encoding');
  if (value === undefined) return undefined;
  const kept = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e && e.toLowerCase() !== 'aws-chunked');
  return kept.length ? kept.join(',') : undefined;
}

/** What the client asked S3 to verify about a body, read from its headers. */
export interface DigestExpectations {
  /** Content-MD5, raw. */
  md5?: Buffer;
  /** The additional checksum to compute and store, if any. */
  algorithm?: ChecksumAlgorithm;
  /** Its expected value (base64) when given in a header; from the trailer otherwise. */
  expected?: string;
  /** The value arrives in the aws-chunked trailer `x-amz-checksum-<algorithm>`. */
  inTrailer?: boolean;
}

export function digestExpectations(req: IncomingMessage): DigestExpectations {
  const out: DigestExpectations = {};
  const md5 = header(req, 'content-md5');
  if (md5 !== undefined) {
    const raw = Buffer.from(md5, 'base64');
    if (raw.length !== 16 || !/^[A-Za-z0-9+/]{22}==$/.test(md5)) throw s3Errors.invalidDigest('Content-MD5');
    out.md5 = raw;
  }
  const given = CHECKSUM_ALGORITHMS.filter((a) => req.headers[checksumHeader(a)] !== undefined);
  if (given.length > 1) throw s3Errors.invalidRequest('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const trailer = header(req, 'x-amz-trailer');
  const named = header(req, 'x-amz-sdk-checksum-algorithm') ?? header(req, 'x-amz-checksum-algorithm');
  if (given.length === 1) {
    const algorithm = given[0];
    const value = header(req, checksumHeader(algorithm)) ?? '';
    if (!isChecksumValue(algorithm, value)) throw s3Errors.invalidRequest(`Value for ${checksumHeader(algorithm)} header is invalid.`);
    out.algorithm = algorithm;
    out.expected = value;
  } else if (trailer !== undefined) {
    const algorithm = /^x-amz-checksum-([a-z0-9]+)$/i.exec(trailer.trim())?.[1];
    const parsed = algorithm ? parseChecksumAlgorithm(algorithm) : undefined;
    if (!parsed) throw s3Errors.invalidRequest(`The value specified in the x-amz-trailer header is not supported: ${JSON.stringify(trailer)}`);
    out.algorithm = parsed;
    out.inTrailer = true;
  } else if (named !== undefined) {
    const parsed = parseChecksumAlgorithm(named);
    if (!parsed) throw s3Errors.invalidRequest(`Checksum algorithm ${JSON.stringify(named)} is not one of ${CHECKSUM_ALGORITHMS.join(', ')}.`);
    out.algorithm = parsed;
  }
  return out;
}

/** Checks what was received against what the client promised (BadDigest otherwise); returns the checksum to store. */
export function verifyDigests(expectations: DigestExpectations, received: ReceivedBody, trailers?: Map<string, string>): string | undefined {
  if (expectations.md5 && !expectations.md5.equals(received.md5)) throw s3Errors.badDigest('Content-MD5');
  const algorithm = expectations.algorithm;
  if (!algorithm) return undefined;
  const actual = receivedChecksum(received, algorithm);
  let expected = expectations.expected;
  if (expectations.inTrailer) {
    expected = trailers?.get(checksumHeader(algorithm));
    if (expected === undefined) throw s3Errors.invalidRequest(`The body ended without the trailer ${checksumHeader(algorithm)} that x-amz-trailer announced.`);
    if (!isChecksumValue(algorithm, expected)) throw s3Errors.invalidRequest(`Value for ${checksumHeader(algorithm)} trailing header is invalid.`);
  }
  if (expected !== undefined && expected !== actual) throw s3Errors.badDigest(algorithm);
  return actual;
}
