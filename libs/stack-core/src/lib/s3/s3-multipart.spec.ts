import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestStack, type TestStack } from '../../testing';
import { rawHttp, s3Client, xmlCode } from '../../../test/s3-helpers';
import { createChecksum } from './checksums';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
const md5 = (data: Buffer) => createHash('md5').update(data).digest();
/** The ETag S3 gives a multipart object: MD5 of the parts' binary MD5s, dash, part count. */
const multipartEtag = (parts: Buffer[]) => `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-${parts.length}"`;
const checksum = (algorithm: 'CRC32' | 'SHA256', data: Buffer) => {
  const hasher = createChecksum(algorithm);
  hasher.update(data);
  return hasher.digest();
};

describe('S3 multipart uploads (JS SDK commands)', () => {
  let stack: TestStack;
  let client: S3Client;
  const bucket = 'multi';
  const part1 = Buffer.alloc(5 * MiB, 1);
  const part2 = Buffer.alloc(5 * MiB + 123, 2);
  const part3 = Buffer.from('the last part may be small');

  beforeAll(async () => {
    stack = await startTestStack({ services: ['s3'] });
    client = s3Client(stack.url);
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    client.destroy();
    await stack.dispose();
  });

  const upload = async (Key: string, bodies: Buffer[], extra: Partial<ConstructorParameters<typeof CreateMultipartUploadCommand>[0]> = {}) => {
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key, ...extra }));
    const parts: CompletedPart[] = [];
    for (const [i, Body] of bodies.entries()) {
      const answer = await client.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId: created.UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: extra.ChecksumAlgorithm }));
      parts.push({ PartNumber: i + 1, ETag: answer.ETag, ChecksumCRC32: answer.ChecksumCRC32, ChecksumSHA256: answer.ChecksumSHA256 });
    }
    return { uploadId: created.UploadId!, parts };
  };

  it('assembles parts into one object with the S3 multipart ETag, and lists parts and uploads meanwhile', async () => {
    const { uploadId, parts } = await upload('big/object.bin', [part1, part2, part3], { ContentType: 'application/x-test', Metadata: { origin: 'multipart' } });
    const listedParts = await client.send(new ListPartsCommand({ Bucket: bucket, Key: 'big/object.bin', UploadId: uploadId }));
    expect(listedParts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, part1.length, `"${md5(part1).toString('hex')}"`],
      [2, part2.length, `"${md5(part2).toString('hex')}"`],
      [3, part3.length, `"${md5(part3).toString('hex')}"`],
    ]);
    const paged = await client.send(new ListPartsCommand({ Bucket: bucket, Key: 'big/object.bin', UploadId: uploadId, MaxParts: 2 }));
    expect([paged.IsTruncated, paged.NextPartNumberMarker, paged.Parts?.length]).toEqual([true, '2', 2]);
    const inProgress = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(inProgress.Uploads?.map((u) => [u.Key, u.UploadId])).toContainEqual(['big/object.bin', uploadId]);
    // Not an object until completed.
    await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/object.bin' }))).rejects.toMatchObject({ name: 'NotFound' });

    const done = await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'big/object.bin', UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    expect(done.ETag).toBe(multipartEtag([part1, part2, part3]));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'big/object.bin' }));
    const body = Buffer.from(await got.Body!.transformToByteArray());
    expect(body.equals(Buffer.concat([part1, part2, part3]))).toBe(true);
    expect(got).toMatchObject({ ETag: done.ETag, ContentType: 'application/x-test', Metadata: { origin: 'multipart' } });
    const second = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'big/object.bin', PartNumber: 2 }));
    expect([second.ContentLength, second.PartsCount, second.ContentRange]).toEqual([part2.length, 3, `bytes ${part1.length}-${part1.length + part2.length - 1}/${body.length}`]);
    expect((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'big/' }));
    expect(listed.Contents?.map((c) => [c.Key, c.Size, c.ETag])).toEqual([['big/object.bin', body.length, done.ETag]]);
  });

  it('keeps composite CRC32 checksums (as boto3 and the CLI send them) and verifies the parts named at completion', async () => {
    const { uploadId, parts } = await upload('sums/composite', [part1, part3], { ChecksumAlgorithm: 'CRC32' });
    expect(parts.every((p) => p.ChecksumCRC32)).toBe(true);
    const done = await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'sums/composite', UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    const composite = `${checksum('CRC32', Buffer.concat([checksum('CRC32', part1), checksum('CRC32', part3)])).toString('base64')}-2`;
    expect([done.ChecksumCRC32, done.ChecksumType]).toEqual([composite, 'COMPOSITE']);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sums/composite', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBe(composite);
    // The SDK skips validating composite checksums; a full GET still works.
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'sums/composite', ChecksumMode: 'ENABLED' }));
    expect((await got.Body!.transformToByteArray()).length).toBe(part1.length + part3.length);
  });

  it('computes a FULL_OBJECT CRC32 over the whole object when asked', async () => {
    const { uploadId, parts } = await upload('sums/full', [part1, part3], { ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' });
    const whole = checksum('CRC32', Buffer.concat([part1, part3])).toString('base64');
    const done = await client.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'sums/full', UploadId: uploadId, MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) } }),
    );
    expect([done.ChecksumCRC32, done.ChecksumType]).toEqual([whole, 'FULL_OBJECT']);
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'sums/full', ChecksumMode: 'ENABLED' }));
    expect(got.ChecksumCRC32).toBe(whole);
    expect((await got.Body!.transformToByteArray()).length).toBe(part1.length + part3.length);
  });

  it('copies parts from existing objects (UploadPartCopy with a range)', async () => {
    const source = Buffer.concat([Buffer.alloc(5 * MiB, 9), Buffer.from('tail of the source')]);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy/source', Body: source }));
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'copy/target' }));
    const first = await client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'copy/target', UploadId: created.UploadId, PartNumber: 1, CopySource: `${bucket}/copy/source`, CopySourceRange: `bytes=0-${5 * MiB - 1}` }));
    const second = await client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'copy/target', UploadId: created.UploadId, PartNumber: 2, CopySource: `${bucket}/copy/source`, CopySourceRange: `bytes=${5 * MiB}-${source.length - 1}` }));
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'copy/target',
        UploadId: created.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: first.CopyPartResult?.ETag }, { PartNumber: 2, ETag: second.CopyPartResult?.ETag }] },
      }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy/target' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(source)).toBe(true);
    await expect(
      client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'copy/target', UploadId: created.UploadId, PartNumber: 1, CopySource: `${bucket}/copy/source`, CopySourceRange: `bytes=0-${source.length}` })),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('refuses parts out of order, unknown or mismatched parts, and small middle parts — and keeps the upload', async () => {
    const { uploadId, parts } = await upload('bad/complete', [part3, part1]);
    const complete = (Parts: CompletedPart[]) => client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'bad/complete', UploadId: uploadId, MultipartUpload: { Parts } }));
    await expect(complete([parts[1], parts[0]])).rejects.toMatchObject({ name: 'InvalidPartOrder' });
    await expect(complete([parts[0], { PartNumber: 7, ETag: parts[1].ETag }])).rejects.toMatchObject({ name: 'InvalidPart', message: expect.stringMatching(/part 7 was not uploaded/) });
    await expect(complete([parts[0], { PartNumber: 2, ETag: '"0123456789abcdef0123456789abcdef"' }])).rejects.toMatchObject({ name: 'InvalidPart' });
    await expect(complete(parts)).rejects.toMatchObject({ name: 'EntityTooSmall', message: expect.stringMatching(/part 1 is 26 bytes/) });
    await expect(complete([])).rejects.toMatchObject({ name: 'InvalidRequest' });
    // Still there: a failed completion loses nothing.
    expect((await client.send(new ListPartsCommand({ Bucket: bucket, Key: 'bad/complete', UploadId: uploadId }))).Parts?.length).toBe(2);
    await expect(complete([parts[1]])).resolves.toBeDefined();
  });

  it('answers NoSuchUpload for unknown, foreign and aborted uploads, and InvalidArgument for part numbers out of range', async () => {
    const { uploadId } = await upload('abort/me', [part3]);
    await expect(client.send(new UploadPartCommand({ Bucket: bucket, Key: 'abort/other-key', UploadId: uploadId, PartNumber: 1, Body: 'x' }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
    await expect(client.send(new UploadPartCommand({ Bucket: bucket, Key: 'abort/me', UploadId: '../../etc', PartNumber: 1, Body: 'x' }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
    for (const PartNumber of [0, 10001]) {
      await expect(client.send(new UploadPartCommand({ Bucket: bucket, Key: 'abort/me', UploadId: uploadId, PartNumber, Body: 'x' }))).rejects.toMatchObject({ name: 'InvalidArgument' });
    }
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'abort/me', UploadId: uploadId }));
    await expect(client.send(new ListPartsCommand({ Bucket: bucket, Key: 'abort/me', UploadId: uploadId }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
    await expect(client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'abort/me', UploadId: uploadId }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
    await expect(client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'abort/me', UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] } }))).rejects.toMatchObject({
      name: 'NoSuchUpload',
    });
  });

  it('refuses malformed completion XML', async () => {
    const { uploadId } = await upload('bad/xml', [part3]);
    const xml = '<CompleteMultipartUpload><Part>';
    const answer = await rawHttp(stack.url, `POST /${bucket}/bad/xml?uploadId=${uploadId} HTTP/1.1\r\nContent-Length: ${xml.length}`, xml);
    expect([answer.status, xmlCode(answer.body)]).toEqual([400, 'MalformedXML']);
  });

  it('pages ListMultipartUploads by key and upload id', async () => {
    const ids: string[] = [];
    for (const key of ['pages/a', 'pages/a', 'pages/b']) ids.push((await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId!);
    const first = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'pages/', MaxUploads: 2 }));
    expect(first.IsTruncated).toBe(true);
    const second = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'pages/', KeyMarker: first.NextKeyMarker, UploadIdMarker: first.NextUploadIdMarker }));
    const all = [...(first.Uploads ?? []), ...(second.Uploads ?? [])].map((u) => u.UploadId);
    expect(all.sort()).toEqual([...ids].sort());
    expect(second.IsTruncated).toBe(false);
  });
});
