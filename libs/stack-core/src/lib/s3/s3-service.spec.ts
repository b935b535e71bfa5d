import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestStack, type TestStack } from '../../testing';
import { s3Client } from '../../../test/s3-helpers';
import type { S3Service } from './s3-service';

// Real clients (and python3) on a shared, sometimes very busy machine: allow them time.
jest.setTimeout(120_000);

describe('S3 service (JS SDK v3)', () => {
  let stack: TestStack;
  let client: S3Client;
  let n = 0;
  /** A fresh bucket per test, so tests are independent. */
  const newBucket = async () => {
    const bucket = `b${++n}-${Date.now().toString(36)}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return bucket;
  };

  beforeAll(async () => {
    stack = await startTestStack({ services: ['s3'] });
    client = s3Client(stack.url);
  });
  afterAll(async () => {
    client.destroy();
    await stack.dispose();
  });

  describe('buckets', () => {
    it('creates, lists, heads, locates and deletes a bucket', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'life-cycle' }));
      const listed = await client.send(new ListBucketsCommand({}));
      expect(listed.Buckets?.map((b) => b.Name)).toContain('life-cycle');
      expect(listed.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
      const head = await client.send(new HeadBucketCommand({ Bucket: 'life-cycle' }));
      expect(head.BucketRegion).toBe('us-east-1');
      expect((await client.send(new GetBucketLocationCommand({ Bucket: 'life-cycle' }))).LocationConstraint).toBeUndefined();
      await client.send(new DeleteBucketCommand({ Bucket: 'life-cycle' }));
      await expect(client.send(new HeadBucketCommand({ Bucket: 'life-cycle' }))).rejects.toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    });

    it('is idempotent for the owner in us-east-1 and BucketAlreadyOwnedByYou elsewhere', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'twice' }));
      await expect(client.send(new CreateBucketCommand({ Bucket: 'twice' }))).resolves.toBeDefined();
      const west = s3Client(stack.url, { region: 'eu-west-1' });
      await west.send(new CreateBucketCommand({ Bucket: 'in-ireland', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      expect((await west.send(new GetBucketLocationCommand({ Bucket: 'in-ireland' }))).LocationConstraint).toBe('eu-west-1');
      await expect(west.send(new CreateBucketCommand({ Bucket: 'in-ireland', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }))).rejects.toMatchObject({
        name: 'BucketAlreadyOwnedByYou',
        $metadata: { httpStatusCode: 409 },
      });
      west.destroy();
    });

    it.each([
      ['ab', /between 3 and 63/],
      ['UpperCase', /lowercase/],
      ['-leading', /begin and end/],
      ['a..b', /adjacent dots/],
      ['192.168.1.1', /IP address/],
      ['under_score', /lowercase/],
      ['x'.repeat(64), /between 3 and 63/],
    ])('refuses the bucket name %j with InvalidBucketName', async (name, why) => {
      await expect(client.send(new CreateBucketCommand({ Bucket: name }))).rejects.toMatchObject({ name: 'InvalidBucketName', message: expect.stringMatching(why) });
    });

    it('refuses to delete a bucket that holds objects (BucketNotEmpty), and a missing one (NoSuchBucket)', async () => {
      const bucket = await newBucket();
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
      await expect(client.send(new DeleteBucketCommand({ Bucket: bucket }))).rejects.toMatchObject({ name: 'BucketNotEmpty', $metadata: { httpStatusCode: 409 } });
      await expect(client.send(new DeleteBucketCommand({ Bucket: 'no-such-bucket-here' }))).rejects.toMatchObject({ name: 'NoSuchBucket', BucketName: 'no-such-bucket-here' });
    });
  });

  describe('objects', () => {
    it('round-trips body, metadata and content headers', async () => {
      const bucket = await newBucket();
      const put = await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'docs/readme.txt',
          Body: 'hello scones',
          ContentType: 'text/plain; charset=utf-8',
          ContentEncoding: 'identity',
          ContentDisposition: 'attachment; filename="r.txt"',
          CacheControl: 'max-age=60',
          ContentLanguage: 'en',
          Metadata: { origin: 'test', 'two-words': 'a b' },
        }),
      );
      expect(put.ETag).toBe(`"${createHash('md5').update('hello scones').digest('hex')}"`);
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/readme.txt' }));
      expect(await got.Body!.transformToString()).toBe('hello scones');
      expect(got).toMatchObject({
        ContentType: 'text/plain; charset=utf-8',
        ContentEncoding: 'identity',
        ContentDisposition: 'attachment; filename="r.txt"',
        CacheControl: 'max-age=60',
        ContentLanguage: 'en',
        ContentLength: 12,
        ETag: put.ETag,
        Metadata: { origin: 'test', 'two-words': 'a b' },
        AcceptRanges: 'bytes',
      });
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'docs/readme.txt' }));
      expect(head).toMatchObject({ ContentLength: 12, ETag: put.ETag, ContentType: 'text/plain; charset=utf-8' });
      expect(head.LastModified!.getTime()).toBeLessThanOrEqual(Date.now());
    });

    it('answers NoSuchKey naming the key, and NoSuchBucket naming the bucket', async () => {
      const bucket = await newBucket();
      await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing/key' }))).rejects.toMatchObject({ name: 'NoSuchKey', Key: 'missing/key', $metadata: { httpStatusCode: 404 } });
      await expect(client.send(new PutObjectCommand({ Bucket: 'no-bucket-x', Key: 'k', Body: 'x' }))).rejects.toMatchObject({ name: 'NoSuchBucket', BucketName: 'no-bucket-x' });
      await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' }))).rejects.toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    });

    it('deletes objects (204 also when there was none)', async () => {
      const bucket = await newBucket();
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: 'x' }));
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
      await expect(client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }))).resolves.toMatchObject({ $metadata: { httpStatusCode: 204 } });
      await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'gone' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    });

    it('refuses a key longer than 1024 bytes of UTF-8 (KeyTooLongError)', async () => {
      const bucket = await newBucket();
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'é'.repeat(512), Body: 'x' })); // exactly 1024 bytes
      await expect(client.send(new PutObjectCommand({ Bucket: bucket, Key: `${'é'.repeat(512)}x`, Body: 'x' }))).rejects.toMatchObject({ name: 'KeyTooLongError' });
    });

    it.each(['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as const)('verifies, stores and returns a %s checksum', async (algorithm) => {
      const bucket = await newBucket();
      const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'sum', Body: 'checksummed body', ChecksumAlgorithm: algorithm }));
      const field = `Checksum${algorithm}` as const;
      expect(put[field]).toMatch(/^[A-Za-z0-9+/]+=*$/);
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'sum', ChecksumMode: 'ENABLED' }));
      expect(got[field]).toBe(put[field]);
      expect(await got.Body!.transformToString()).toBe('checksummed body');
    });

    it('refuses a body whose checksum or Content-MD5 does not match (BadDigest) and keeps nothing', async () => {
      const bucket = await newBucket();
      await expect(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad', Body: 'abc', ChecksumCRC32: 'AAAAAA==' }))).rejects.toMatchObject({ name: 'BadDigest', message: expect.stringMatching(/CRC32/) });
      await expect(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad', Body: 'abc', ContentMD5: createHash('md5').update('abd').digest('base64') }))).rejects.toMatchObject({
        name: 'BadDigest',
        message: expect.stringMatching(/Content-MD5/),
      });
      await expect(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad', Body: 'abc', ContentMD5: 'not-md5' }))).rejects.toMatchObject({ name: 'InvalidDigest' });
      await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad' }))).rejects.toMatchObject({ name: 'NotFound' });
    });

    it('accepts a streamed body (aws-chunked with a trailing checksum, as the SDK sends streams)', async () => {
      const bucket = await newBucket();
      const data = Buffer.alloc(300_000, 7);
      const body = Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]);
      const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'streamed', Body: body, ContentLength: data.length, ContentEncoding: 'gzip' }));
      expect(put.ChecksumCRC32).toBeDefined();
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'streamed' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
      // aws-chunked is how it travelled, not how it is stored.
      expect(got.ContentEncoding).toBe('gzip');
    });

    it('serves ranges (206) and refuses unsatisfiable ones (416 InvalidRange)', async () => {
      const bucket = await newBucket();
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'digits', Body: '0123456789' }));
      const cases: Array<[string, string, string]> = [
        ['bytes=2-4', '234', 'bytes 2-4/10'],
        ['bytes=7-', '789', 'bytes 7-9/10'],
        ['bytes=-3', '789', 'bytes 7-9/10'],
        ['bytes=5-100', '56789', 'bytes 5-9/10'],
      ];
      for (const [range, body, contentRange] of cases) {
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'digits', Range: range }));
        expect([await got.Body!.transformToString(), got.ContentRange, got.$metadata.httpStatusCode]).toEqual([body, contentRange, 206]);
      }
      await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'digits', Range: 'bytes=10-' }))).rejects.toMatchObject({ name: 'InvalidRange', $metadata: { httpStatusCode: 416 } });
    });

    it('honours If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since', async () => {
      const bucket = await newBucket();
      const { ETag } = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: 'x' }));
      const later = new Date(Date.now() + 60_000);
      const earlier = new Date(Date.now() - 60_000);
      await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfMatch: ETag }))).resolves.toBeDefined();
      await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfMatch: '"0000"' }))).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfNoneMatch: ETag }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 304 } });
      await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfModifiedSince: later }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 304 } });
      await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfModifiedSince: earlier }))).resolves.toBeDefined();
      await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfUnmodifiedSince: earlier }))).rejects.toMatchObject({ name: 'PreconditionFailed' });
      // If-Match that holds wins over If-Unmodified-Since that does not (S3's rule).
      await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfMatch: ETag, IfUnmodifiedSince: earlier }))).resolves.toBeDefined();
      await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'c', IfMatch: '"0000"' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    });

    it('overrides response headers with response-content-type and friends', async () => {
      const bucket = await newBucket();
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'r', Body: 'x', ContentType: 'text/plain' }));
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'r', ResponseContentType: 'application/json', ResponseContentDisposition: 'inline', ResponseCacheControl: 'no-cache' }));
      expect(got).toMatchObject({ ContentType: 'application/json', ContentDisposition: 'inline', CacheControl: 'no-cache' });
    });

    it('supports conditional writes: If-None-Match: * refuses to overwrite', async () => {
      const bucket = await newBucket();
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'first', IfNoneMatch: '*' }));
      await expect(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'second', IfNoneMatch: '*' }))).rejects.toMatchObject({ name: 'PreconditionFailed' });
      expect(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'once' }))).Body!.transformToString()).toBe('first');
    });
  });

  describe('copies', () => {
    it('copies with COPY (metadata kept) and REPLACE (metadata from the request), url-encoded source keys included', async () => {
      const bucket = await newBucket();
      const key = 'dir/with space+plus/é?#.txt';
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'copied', ContentType: 'text/plain', Metadata: { a: '1' } }));
      const copy = await client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-1', CopySource: `${bucket}/${encodeURIComponent(key)}` }));
      expect(copy.CopyObjectResult?.ETag).toBe(`"${createHash('md5').update('copied').digest('hex')}"`);
      const kept = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy-1' }));
      expect(kept).toMatchObject({ ContentType: 'text/plain', Metadata: { a: '1' } });
      await client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-2', CopySource: `/${bucket}/${encodeURIComponent(key)}`, MetadataDirective: 'REPLACE', ContentType: 'text/csv', Metadata: { b: '2' } }));
      const replaced = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-2' }));
      expect(replaced).toMatchObject({ ContentType: 'text/csv', Metadata: { b: '2' } });
      expect(await replaced.Body!.transformToString()).toBe('copied');
    });

    it('refuses a copy onto itself that changes nothing, missing sources and failed conditions', async () => {
      const bucket = await newBucket();
      const { ETag } = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'self', Body: 'x' }));
      await expect(client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'self', CopySource: `${bucket}/self` }))).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/copy an object to itself/) });
      await expect(client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'self', CopySource: `${bucket}/self`, MetadataDirective: 'REPLACE', Metadata: { now: 'new' } }))).resolves.toBeDefined();
      await expect(client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/nothing` }))).rejects.toMatchObject({ name: 'NoSuchKey', Key: 'nothing' });
      await expect(client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `no-such-source-bucket/k` }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
      await expect(client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/self`, CopySourceIfNoneMatch: ETag }))).rejects.toMatchObject({ name: 'PreconditionFailed' });
      await expect(client.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/self`, MetadataDirective: 'MERGE' as 'COPY' }))).rejects.toMatchObject({ name: 'InvalidArgument' });
    });
  });

  describe('DeleteObjects', () => {
    it('deletes many keys, reporting each, or only failures when Quiet', async () => {
      const bucket = await newBucket();
      for (const key of ['a', 'b', 'c', 'd']) await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
      const loud = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }, { Key: 'never-was' }] } }));
      expect(loud.Deleted?.map((d) => d.Key)).toEqual(['a', 'b', 'never-was']);
      const quiet = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'c' }, { Key: 'x'.repeat(1025) }], Quiet: true } }));
      expect(quiet.Deleted ?? []).toEqual([]);
      expect(quiet.Errors).toEqual([expect.objectContaining({ Code: 'KeyTooLongError' })]);
      const left = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(left.Contents?.map((c) => c.Key)).toEqual(['d']);
    });
  });

  describe('in-process API', () => {
    it('puts, gets, heads, lists and deletes without HTTP, seen by HTTP clients', async () => {
      const s3 = stack.service<S3Service>('s3')!;
      await s3.createBucket('in-process');
      await s3.createBucket('in-process'); // idempotent
      const { etag } = await s3.putObject('in-process', 'models/m/model.tar.gz', Buffer.from('tarball'), { contentType: 'application/gzip', metadata: { job: 'j1' } });
      expect(etag).toBe(createHash('md5').update('tarball').digest('hex'));
      const got = await client.send(new GetObjectCommand({ Bucket: 'in-process', Key: 'models/m/model.tar.gz' }));
      expect([await got.Body!.transformToString(), got.ContentType, got.Metadata]).toEqual(['tarball', 'application/gzip', { job: 'j1' }]);
      await client.send(new PutObjectCommand({ Bucket: 'in-process', Key: 'models/m/other', Body: 'o', ContentType: 'text/plain' }));
      const read = await s3.getObject('in-process', 'models/m/other');
      expect(read.body.toString()).toBe('o');
      expect(read.info).toMatchObject({ key: 'models/m/other', size: 1, contentType: 'text/plain' });
      expect(await s3.headObject('in-process', 'nope')).toBeUndefined();
      const listed = await s3.listObjects('in-process', { prefix: 'models/', maxKeys: 1 });
      expect(listed).toMatchObject({ objects: [{ key: 'models/m/model.tar.gz', size: 7 }], isTruncated: true, nextStartAfter: 'models/m/model.tar.gz' });
      expect((await s3.listObjects('in-process', { prefix: 'models/', startAfter: listed.nextStartAfter })).objects.map((o) => o.key)).toEqual(['models/m/other']);
      await s3.deleteObject('in-process', 'models/m/other');
      await expect(s3.getObject('in-process', 'models/m/other')).rejects.toMatchObject({ code: 'NoSuchKey' });
      await expect(s3.putObject('no-such-in-process', 'k', 'x')).rejects.toMatchObject({ code: 'NoSuchBucket' });
      await expect(s3.putObject('in-process', 'k'.repeat(1025), 'x')).rejects.toMatchObject({ code: 'KeyTooLongError' });
      const empty = await s3.putObject('in-process', 'empty', '');
      expect(empty.etag).toBe(createHash('md5').digest('hex'));
      const read2 = await s3.getObject('in-process', 'empty');
      expect([read2.body.length, read2.info.contentType]).toEqual([0, 'binary/octet-stream']);
    });

    it('reports buckets with object counts and bytes for scones status', async () => {
      const bucket = await newBucket();
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'one', Body: '12345' }));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'two', Body: '123' }));
      const status = (await stack.status()).services.s3 as { buckets: Array<{ name: string; objects: number; bytes: number }> };
      expect(status.buckets.find((b) => b.name === bucket)).toMatchObject({ objects: 2, bytes: 8 });
    });
  });
});
