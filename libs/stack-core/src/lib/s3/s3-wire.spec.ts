import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestStack, type TestStack } from '../../testing';
import { rawHttp, recordingLogger, run, s3Client, xmlCode } from '../../../test/s3-helpers';
import { createChecksum } from './checksums';

jest.setTimeout(120_000);

const SIGNED = 'Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=00';
const crc32 = (data: Buffer) => {
  const hasher = createChecksum('CRC32');
  hasher.update(data);
  return hasher.digest().toString('base64');
};

describe('S3 on the wire (raw HTTP and curl)', () => {
  let stack: TestStack;
  let client: S3Client;
  let bucket: string;
  let n = 0;
  const logger = recordingLogger();
  const tmpFiles = async () => readdir(join(stack.dataDir, 's3', 'tmp'));

  beforeAll(async () => {
    stack = await startTestStack({ services: ['s3'], logger });
    client = s3Client(stack.url);
    bucket = 'wire';
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    client.destroy();
    await stack.dispose();
  });
  afterEach(() => {
    // No request may fail in an unexpected way (a 500): those are logged as errors.
    const errors = logger.lines.filter((l) => l.level === 'error');
    logger.lines.length = 0;
    expect(errors).toEqual([]);
  });
  const key = () => `k${++n}`;
  const exists = async (k: string) =>
    client.send(new HeadObjectCommand({ Bucket: bucket, Key: k })).then(
      () => true,
      (e: { name: string }) => (e.name === 'NotFound' ? false : Promise.reject(e)),
    );

  describe('unsigned requests (curl)', () => {
    it('PUTs and GETs with curl, giving S3 defaults', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'scones-curl-'));
      try {
        const file = join(dir, 'up.bin');
        await writeFile(file, Buffer.alloc(70_000, 3));
        const put = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-T', file, `${stack.url}/${bucket}/curl/up.bin`]);
        expect(put.stdout).toBe('200');
        const head = await run('curl', ['-sS', '-I', `${stack.url}/${bucket}/curl/up.bin`]);
        expect(head.stdout).toMatch(/content-type: binary\/octet-stream/i);
        expect(head.stdout).toMatch(/content-length: 70000/i);
        const got = await run('curl', ['-sS', `${stack.url}/${bucket}/curl/up.bin`], { encoding: 'buffer' });
        expect(Buffer.compare(got.stdout as unknown as Buffer, Buffer.alloc(70_000, 3))).toBe(0);
        const list = await run('curl', ['-sS', `${stack.url}/${bucket}?list-type=2&prefix=curl/`]);
        expect(list.stdout).toMatch(/<Key>curl\/up\.bin<\/Key>/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('addresses buckets virtual-hosted style (<bucket>.localhost:<port>)', async () => {
      const host = `vhost-bucket.localhost:${stack.port}`;
      expect((await rawHttp(stack.url, 'PUT / HTTP/1.1\r\nContent-Length: 0', '', { host })).status).toBe(200);
      expect((await rawHttp(stack.url, 'PUT /dir/file.txt HTTP/1.1\r\nContent-Length: 5', 'hello', { host })).status).toBe(200);
      const got = await rawHttp(stack.url, 'GET /dir/file.txt HTTP/1.1', '', { host });
      expect([got.status, got.body.toString()]).toEqual([200, 'hello']);
      const listed = await rawHttp(stack.url, 'GET /?list-type=2 HTTP/1.1', '', { host });
      expect(listed.body.toString()).toMatch(/<Name>vhost-bucket<\/Name>.*<Key>dir\/file\.txt<\/Key>/s);
      expect((await client.send(new GetObjectCommand({ Bucket: 'vhost-bucket', Key: 'dir/file.txt' }))).ContentLength).toBe(5);
    });
  });

  describe('aws-chunked bodies', () => {
    const data = Buffer.from('0123456789abcdefghij'.repeat(1000));

    it('decodes STREAMING-AWS4-HMAC-SHA256-PAYLOAD (signed chunks)', async () => {
      const sig = `;chunk-signature=${'ab'.repeat(32)}`;
      const body = Buffer.concat([
        Buffer.from(`${(8192).toString(16)}${sig}\r\n`),
        data.subarray(0, 8192),
        Buffer.from(`\r\n${(data.length - 8192).toString(16)}${sig}\r\n`),
        data.subarray(8192),
        Buffer.from(`\r\n0${sig}\r\n\r\n`),
      ]);
      const k = key();
      const answer = await rawHttp(
        stack.url,
        `PUT /${bucket}/${k} HTTP/1.1\r\n${SIGNED}\r\nContent-Encoding: aws-chunked\r\nx-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\r\nx-amz-decoded-content-length: ${data.length}\r\nContent-Length: ${body.length}`,
        body,
      );
      expect(answer.status).toBe(200);
      expect(answer.headers.etag).toBe(`"${createHash('md5').update(data).digest('hex')}"`);
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
      expect(got.ContentEncoding).toBeUndefined();
    });

    const trailerBody = (checksum: string) =>
      Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${checksum}\r\n\r\n`)]);
    const trailerHead = (k: string, decoded = data.length, extra = '') =>
      `PUT /${bucket}/${k} HTTP/1.1\r\n${SIGNED}\r\nContent-Encoding: aws-chunked\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nx-amz-trailer: x-amz-checksum-crc32\r\nx-amz-decoded-content-length: ${decoded}${extra}`;

    it('decodes STREAMING-UNSIGNED-PAYLOAD-TRAILER, verifies and stores the trailing checksum (also inside Transfer-Encoding: chunked)', async () => {
      const k = key();
      const body = trailerBody(crc32(data));
      const answer = await rawHttp(stack.url, `${trailerHead(k)}\r\nContent-Length: ${body.length}`, body);
      expect([answer.status, answer.headers['x-amz-checksum-crc32']]).toEqual([200, crc32(data)]);
      const k2 = key();
      const httpChunked = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
      const answer2 = await rawHttp(stack.url, `${trailerHead(k2)}\r\nTransfer-Encoding: chunked`, httpChunked);
      expect(answer2.status).toBe(200);
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: k2, ChecksumMode: 'ENABLED' }));
      expect(got.ChecksumCRC32).toBe(crc32(data));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    });

    it('refuses a wrong trailing checksum (BadDigest) and keeps nothing', async () => {
      const k = key();
      const body = trailerBody('AAAAAA==');
      const answer = await rawHttp(stack.url, `${trailerHead(k)}\r\nContent-Length: ${body.length}`, body);
      expect([answer.status, xmlCode(answer.body)]).toEqual([400, 'BadDigest']);
      expect(await exists(k)).toBe(false);
    });

    it.each([
      ['shorter', data.length + 10, 'IncompleteBody'],
      ['longer', data.length - 10, 'InvalidRequest'],
    ])('refuses a payload %s than x-amz-decoded-content-length and keeps nothing', async (_what, decoded, code) => {
      const k = key();
      const body = trailerBody(crc32(data));
      const answer = await rawHttp(stack.url, `${trailerHead(k, decoded)}\r\nContent-Length: ${body.length}`, body);
      expect([answer.status, xmlCode(answer.body)]).toEqual([400, code]);
      expect(await exists(k)).toBe(false);
      expect(await tmpFiles()).toEqual([]);
    });

    it('refuses malformed chunk framing', async () => {
      const k = key();
      const body = Buffer.from('zz;chunk-signature=00\r\nabc\r\n0\r\n\r\n');
      const answer = await rawHttp(stack.url, `PUT /${bucket}/${k} HTTP/1.1\r\nContent-Encoding: aws-chunked\r\nx-amz-decoded-content-length: 3\r\nContent-Length: ${body.length}`, body);
      expect([answer.status, xmlCode(answer.body)]).toEqual([400, 'InvalidRequest']);
      expect(answer.body.toString()).toMatch(/chunk header/);
      expect(await exists(k)).toBe(false);
    });
  });

  describe('hostile sizes and lying lengths', () => {
    it('refuses a single PUT above 5 GiB from its header, before reading the body', async () => {
      const k = key();
      const answer = await rawHttp(stack.url, `PUT /${bucket}/${k} HTTP/1.1\r\nContent-Length: ${5 * 1024 ** 3 + 1}`, Buffer.alloc(1000));
      expect([answer.status, xmlCode(answer.body)]).toEqual([400, 'EntityTooLarge']);
      expect(answer.body.toString()).toMatch(/<MaxSizeAllowed>5368709120<\/MaxSizeAllowed>/);
      const chunked = await rawHttp(stack.url, `PUT /${bucket}/${k} HTTP/1.1\r\nContent-Encoding: aws-chunked\r\nx-amz-decoded-content-length: 99999999999999\r\nTransfer-Encoding: chunked`, '');
      expect([chunked.status, xmlCode(chunked.body)]).toEqual([400, 'EntityTooLarge']);
      expect(await exists(k)).toBe(false);
    });

    it('refuses a PUT without Content-Length (411 MissingContentLength), as S3 does', async () => {
      const answer = await rawHttp(stack.url, `PUT /${bucket}/${key()} HTTP/1.1\r\nTransfer-Encoding: chunked`, '3\r\nabc\r\n0\r\n\r\n');
      expect([answer.status, xmlCode(answer.body)]).toEqual([411, 'MissingContentLength']);
    });

    it('keeps nothing when the body ends before Content-Length (client gone)', async () => {
      const k = key();
      await rawHttp(stack.url, `PUT /${bucket}/${k} HTTP/1.1\r\nContent-Length: 2000000`, Buffer.alloc(1_500_000, 1), { endAfterWrite: true }).catch(() => undefined);
      // The server sees the connection end; wait for it to clean up (the condition itself, not a delay).
      const deadline = Date.now() + 30_000;
      while ((await tmpFiles()).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await tmpFiles()).toEqual([]);
      expect(await exists(k)).toBe(false);
    });

    it.each([
      ['without a digest', ''],
      ['with Content-MD5 of the whole', `\r\nContent-MD5: ${createHash('md5').update('helloEXTRA-BYTES').digest('base64')}`],
    ])('a body longer than Content-Length (%s): what the client is told matches what is stored', async (_what, extra) => {
      const k = key();
      const answer = await rawHttp(stack.url, `PUT /${bucket}/${k} HTTP/1.1${extra}\r\nContent-Length: 5`, 'helloEXTRA-BYTES');
      // The bytes past Content-Length are a malformed next request: Node's parser answers 400 and
      // resets the connection, usually before the PUT is stored; then nothing may be kept.
      if (answer.status === 200) {
        expect(extra).toBe('');
        expect(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: k }))).Body!.transformToString()).toBe('hello');
      } else {
        expect(answer.status).toBe(400);
        // Wait for the PUT's own end (stored nothing, or refused), so the absence below is final.
        await logger.waitFor((l) => ['s3: client went away; nothing stored', 's3: request refused'].includes(l.message) && String(l.fields?.url).endsWith(`/${k}`));
        expect(await exists(k)).toBe(false);
      }
      expect(await tmpFiles()).toEqual([]);
    });

    it('refuses oversized metadata (MetadataTooLarge) and a bad storage class', async () => {
      const meta = await rawHttp(stack.url, `PUT /${bucket}/${key()} HTTP/1.1\r\nx-amz-meta-big: ${'m'.repeat(2100)}\r\nContent-Length: 1`, 'x');
      expect([meta.status, xmlCode(meta.body)]).toEqual([400, 'MetadataTooLarge']);
      const storage = await rawHttp(stack.url, `PUT /${bucket}/${key()} HTTP/1.1\r\nx-amz-storage-class: CHEAPEST\r\nContent-Length: 1`, 'x');
      expect([storage.status, xmlCode(storage.body)]).toEqual([400, 'InvalidStorageClass']);
    });
  });

  describe('error shapes', () => {
    it('writes S3 XML errors with code, message, resource and request id; HEAD errors have no body', async () => {
      const answer = await rawHttp(stack.url, `GET /${bucket}/no/such/key HTTP/1.1`);
      expect(answer.status).toBe(404);
      expect(answer.headers['content-type']).toBe('application/xml');
      const text = answer.body.toString();
      expect(text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code><Message>The specified key does not exist.<\/Message><Key>no\/such\/key<\/Key><RequestId>[^<]+<\/RequestId><\/Error>$/);
      expect(answer.headers['x-amz-request-id']).toBeDefined();
      const head = await rawHttp(stack.url, `HEAD /${bucket}/no/such/key HTTP/1.1`);
      expect([head.status, head.body.length]).toEqual([404, 0]);
      const headBucket = await rawHttp(stack.url, 'HEAD /no-such-bucket-at-all HTTP/1.1');
      expect([headBucket.status, headBucket.body.length]).toEqual([404, 0]);
    });

    it.each([
      ['GET', '?cors', /GetBucketCors/],
      ['PUT', '?tagging', /PutBucketTagging/],
      ['PUT', '?policy', /PutBucketPolicy/],
      ['GET', '?versions', /GetObjectVersions|ListObjectVersions|Versions/],
    ])('answers 501 NotImplemented naming %s %s', async (method, query, name) => {
      const answer = await rawHttp(stack.url, `${method} /${bucket}${query} HTTP/1.1\r\nContent-Length: 0`);
      expect([answer.status, xmlCode(answer.body)]).toEqual([501, 'NotImplemented']);
      expect(answer.body.toString()).toMatch(name);
    });

    it('answers object sub-resources it does not serve with 501, and unknown methods with 405', async () => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'sub', Body: 'x' }));
      const retention = await rawHttp(stack.url, `GET /${bucket}/sub?retention HTTP/1.1`);
      expect([retention.status, xmlCode(retention.body)]).toEqual([501, 'NotImplemented']);
      expect(retention.body.toString()).toMatch(/GetObjectRetention/);
      const patch = await rawHttp(stack.url, `PATCH /${bucket}/sub HTTP/1.1\r\nContent-Length: 0`);
      expect([patch.status, xmlCode(patch.body)]).toEqual([405, 'MethodNotAllowed']);
    });

    it('answers minimal ACL and tagging documents the AWS CLI reads', async () => {
      await rawHttp(stack.url, `PUT /${bucket}/tagged HTTP/1.1\r\nx-amz-tagging: team=scones&stage=dev\r\nContent-Length: 1`, 'x');
      const tags = await rawHttp(stack.url, `GET /${bucket}/tagged?tagging HTTP/1.1`);
      expect(tags.body.toString()).toMatch(/<TagSet><Tag><Key>team<\/Key><Value>scones<\/Value><\/Tag><Tag><Key>stage<\/Key><Value>dev<\/Value><\/Tag><\/TagSet>/);
      const head = await rawHttp(stack.url, `HEAD /${bucket}/tagged HTTP/1.1`);
      expect(head.headers['x-amz-tagging-count']).toBe('2');
      const acl = await rawHttp(stack.url, `GET /${bucket}?acl HTTP/1.1`);
      expect(acl.body.toString()).toMatch(/<Permission>FULL_CONTROL<\/Permission>/);
    });

    it('refuses malformed XML in DeleteObjects (MalformedXML) and DOCTYPE entities', async () => {
      const post = async (xml: string) => {
        const md5 = createHash('md5').update(xml).digest('base64');
        return rawHttp(stack.url, `POST /${bucket}?delete HTTP/1.1\r\nContent-MD5: ${md5}\r\nContent-Length: ${Buffer.byteLength(xml)}`, xml);
      };
      for (const xml of ['<Delete><Object><Key>a</Key></Delete>', 'not xml', '<!DOCTYPE d [<!ENTITY x "y">]><Delete><Object><Key>&x;</Key></Object></Delete>', '<Delete></Delete>']) {
        const answer = await post(xml);
        expect([answer.status, xmlCode(answer.body)]).toEqual([400, 'MalformedXML']);
      }
      const missingDigest = await rawHttp(stack.url, `POST /${bucket}?delete HTTP/1.1\r\nContent-Length: 39`, '<Delete><Object><Key>a</Key></Object></Delete>'.slice(0, 39));
      expect(missingDigest.status).toBe(400);
    });
  });

  describe('concurrency', () => {
    it('concurrent PUTs of one key: the last writer wins whole, never a mix', async () => {
      const k = key();
      // 2 MiB bodies take the streaming path; each is one repeated byte, so a mix would show.
      const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(2 * 1024 * 1024, 65 + i));
      await Promise.all(bodies.map((Body) => client.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body }))));
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
      const body = Buffer.from(await got.Body!.transformToByteArray());
      expect(body.length).toBe(2 * 1024 * 1024);
      expect(body.every((b) => b === body[0])).toBe(true);
      expect(got.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: k }));
      expect(listed.Contents?.map((c) => [c.Key, c.ETag, c.Size])).toEqual([[k, got.ETag, body.length]]);
      expect(await tmpFiles()).toEqual([]);
    });

    it('gzip bodies are stored as sent (Content-Encoding kept, not decoded)', async () => {
      const k = key();
      const gz = zlib.gzipSync('compressed text');
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: gz, ContentEncoding: 'gzip', ContentType: 'text/plain' }));
      const raw = await rawHttp(stack.url, `GET /${bucket}/${k} HTTP/1.1`);
      expect(raw.headers['content-encoding']).toBe('gzip');
      expect(raw.body.equals(gz)).toBe(true);
    });
  });
});
