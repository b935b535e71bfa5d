import type { IncomingMessage } from 'node:http';
import { MAX_KEY_BYTES } from './names';
import { s3Errors } from './s3-errors';

/** What an S3 request addresses. */
export interface S3Target {
  /** Undefined for service-level requests (ListBuckets). */
  bucket?: string;
  /** Empty for bucket-level requests. Exactly the key: percent-decoded once, never normalized. */
  key: string;
  query: URLSearchParams;
  /** Whether the bucket came from the Host header (`<bucket>.localhost:<port>`). */
  virtualHosted: boolean;
}

/** Host suffixes under which the first label is a bucket (virtual-hosted-style addressing). */
const VIRTUAL_HOST_SUFFIXES = ['.s3.localhost.localstack.cloud', '.localhost'];

/**
 * Reads bucket and key from the raw request target. The gateway's `URL` must not be used for
 * this: WHATWG URL parsing removes `.`/`..` segments (also `%2e%2e`), so `/b/../x` would become
 * `/x` and keys such as `a/../b` would silently change. Here the path is split and decoded once,
 * by hand, and the key is kept byte for byte.
 */
export function parseS3Target(req: IncomingMessage): S3Target {
  let raw = req.url ?? '/';
  // Absolute-form request targets (proxies): keep only the path and query.
  const absolute = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*/.exec(raw);
  if (absolute) raw = raw.slice(absolute[0].length) || '/';
  const mark = raw.indexOf('?');
  const path = mark === -1 ? raw : raw.slice(0, mark);
  const query = new URLSearchParams(mark === -1 ? '' : raw.slice(mark + 1));
  if (!path.startsWith('/')) throw s3Errors.invalidUri(`the path ${JSON.stringify(path.slice(0, 100))} does not start with "/"`);

  const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
  const suffix = VIRTUAL_HOST_SUFFIXES.find((s) => host.endsWith(s) && host.length > s.length);
  if (suffix) {
    return { bucket: host.slice(0, -suffix.length), key: decodeKey(path.slice(1)), query, virtualHosted: true };
  }
  if (path === '/') return { key: '', query, virtualHosted: false };
  const slash = path.indexOf('/', 1);
  const bucket = decodePart(slash === -1 ? path.slice(1) : path.slice(1, slash), 'bucket name');
  const key = slash === -1 ? '' : decodeKey(path.slice(slash + 1));
  return { bucket, key, query, virtualHosted: false };
}

function decodePart(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw s3Errors.invalidUri(`the ${what} ${JSON.stringify(text.slice(0, 200))} is not valid percent-encoded UTF-8`);
  }
}

function decodeKey(text: string): string {
  const key = decodePart(text, 'key');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) throw s3Errors.keyTooLong(bytes);
  return key;
}

/** Decodes `x-amz-copy-source` (`[/]bucket/key[?versionId=…]`, URL-encoded). */
export function parseCopySource(value: string): { bucket: string; key: string } {
  const mark = value.indexOf('?');
  const path = mark === -1 ? value : value.slice(0, mark);
  const decoded = (() => {
    try {
      return decodeURIComponent(path);
    } catch {
      throw s3Errors.invalidArgument('Invalid copy source encoding: x-amz-copy-source is not valid percent-encoded UTF-8', 'x-amz-copy-source', value);
    }
  })();
  const trimmed = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = trimmed.indexOf('/');
  if (slash <= 0 || slash === trimmed.length - 1) {
    throw s3Errors.invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source', value);
  }
  const key = trimmed.slice(slash + 1);
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) throw s3Errors.keyTooLong(bytes);
  return { bucket: trimmed.slice(0, slash), key };
}
