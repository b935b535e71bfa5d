import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from './client-config';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { deleteObjects, listObjects, md5Etag, putObjects, S3TransferError, type ObjectToPut } from './s3-transfer';

const objects = (n: number, prefix = 'data/train/'): ObjectToPut[] =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}img_${String(i).padStart(3, '0')}.png`, body: Buffer.from(`image ${i}`), contentType: 'image/png' }));

/**
 * Counts requests in flight through a client (the real one underneath). With `holdUntil`, the
 * first requests wait until that many are in flight at once, so a test sees the concurrency limit
 * reached whatever the machine's speed (without it, fast answers could keep it below the limit).
 */
function countingClient(client: S3Client, holdUntil = 0): { client: S3Client; maxInFlight: () => number; puts: string[] } {
  let inFlight = 0;
  let max = 0;
  const puts: string[] = [];
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (release = resolve));
  if (holdUntil === 0) release();
  const send = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  const wrapped = Object.create(client) as S3Client;
  (wrapped as unknown as { send: typeof send }).send = async (command, options) => {
    if (command instanceof PutObjectCommand) puts.push(command.input.Key!);
    inFlight++;
    max = Math.max(max, inFlight);
    if (inFlight >= holdUntil) release();
    try {
      await reached;
      return await send(command, options);
    } finally {
      inFlight--;
    }
  };
  return { client: wrapped, maxInFlight: () => max, puts };
}

describe('s3 transfer', () => {
  let dir: string;
  let s3: LocalS3;
  let client: S3Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scones-s3t-'));
    s3 = await startLocalS3({ directory: dir, buckets: ['scones'] });
    client = createS3Client(s3.target);
  });
  afterAll(async () => {
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads with bounded concurrency and reports progress', async () => {
    const counting = countingClient(client, 4);
    const progress: number[] = [];
    const result = await putObjects(counting.client, 'scones', objects(40), { concurrency: 4, onProgress: (p) => progress.push(p.done) });
    expect(result).toEqual({ put: 40, skipped: 0, bytes: objects(40).reduce((n, o) => n + o.body.length, 0) });
    expect(counting.maxInFlight()).toBe(4);
    expect(progress).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const got = await client.send(new GetObjectCommand({ Bucket: 'scones', Key: 'data/train/img_007.png' }));
    expect(await got.Body!.transformToString()).toBe('image 7');
    expect(got.ContentType).toBe('image/png');
  });

  it('lists keys with ETags (the MD5 of the body), across pages', async () => {
    await putObjects(client, 'scones', objects(40, 'list/'));
    const listed = await listObjects(client, 'scones', 'list/', { pageSize: 7 });
    expect(listed.size).toBe(40);
    expect(listed.get('list/img_003.png')).toEqual({ etag: md5Etag(Buffer.from('image 3')), size: 7 });
  });

  it('skips objects already there with the same bytes, uploads changed ones', async () => {
    await putObjects(client, 'scones', objects(40, 'skip/'));
    const existing = await listObjects(client, 'scones', 'skip/');
    const changed = objects(40, 'skip/').map((o, i) => (i === 5 ? { ...o, body: 'changed' } : o));
    const counting = countingClient(client);
    const result = await putObjects(counting.client, 'scones', changed, { existing });
    expect(result).toMatchObject({ put: 1, skipped: 39 });
    expect(counting.puts).toEqual(['skip/img_005.png']);
  });

  it('pulls from an async iterable that is still being produced', async () => {
    async function* produce() {
      for (const o of objects(10, 'stream/')) {
        await new Promise((r) => setTimeout(r, 2));
        yield o;
      }
    }
    expect(await putObjects(client, 'scones', produce(), { concurrency: 3 })).toMatchObject({ put: 10 });
    expect((await listObjects(client, 'scones', 'stream/')).size).toBe(10);
  });

  it('deletes keys', async () => {
    await putObjects(client, 'scones', objects(10, 'delete/'));
    expect(await deleteObjects(client, 'scones', ['delete/img_000.png', 'delete/img_001.png'])).toBe(2);
    expect((await listObjects(client, 'scones', 'delete/')).size).toBe(8);
  });

  it('names the bucket and key when a put fails, and stops the producer', async () => {
    let produced = 0;
    function* many() {
      for (const o of objects(1000, 'x/')) {
        produced++;
        yield o;
      }
    }
    const attempt = putObjects(client, 'no-such-bucket', many(), { concurrency: 2 });
    await expect(attempt).rejects.toThrow(S3TransferError);
    await expect(putObjects(client, 'no-such-bucket', objects(1, 'x/'))).rejects.toThrow(/^put s3:\/\/no-such-bucket\/x\/img_000\.png: NoSuchBucket: .*\(HTTP 404\)$/);
    expect(produced).toBeLessThan(10);
  });

  it('stops on abort with the signal reason', async () => {
    const controller = new AbortController();
    const reason = new Error('Ctrl-C');
    const attempt = putObjects(client, 'scones', objects(200, 'abort/'), {
      concurrency: 2,
      signal: controller.signal,
      onProgress: ({ done }) => done === 3 && controller.abort(reason),
    });
    await expect(attempt).rejects.toBe(reason);
    expect((await listObjects(client, 'scones', 'abort/')).size).toBeLessThan(10);
  });
});
