import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startTestStack } from '../../testing';
import { filesUnder, recordingLogger, s3Client } from '../../../test/s3-helpers';

jest.setTimeout(180_000);

const ROOT = resolve(__dirname, '../../../../..');

/** Waits for a condition with a generous deadline (never a fixed sleep). */
async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('S3 state survives restarts and crashes', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scones-s3-persist-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps buckets, objects, metadata and multipart uploads across close and start', async () => {
    const first = await startTestStack({ services: ['s3'], dataDir });
    let client = s3Client(first.url);
    await client.send(new CreateBucketCommand({ Bucket: 'kept' }));
    await client.send(new PutObjectCommand({ Bucket: 'kept', Key: 'data/a.png', Body: 'png bytes', ContentType: 'image/png', Metadata: { label: 'apple' }, ChecksumAlgorithm: 'SHA256' }));
    await client.send(new PutObjectCommand({ Bucket: 'kept', Key: '../odd/key', Body: 'odd' }));
    const upload = await client.send(new CreateMultipartUploadCommand({ Bucket: 'kept', Key: 'pending', ContentType: 'text/plain' }));
    const part = await client.send(new UploadPartCommand({ Bucket: 'kept', Key: 'pending', UploadId: upload.UploadId, PartNumber: 1, Body: 'only part' }));
    client.destroy();
    await first.dispose();

    const logger = recordingLogger();
    const second = await startTestStack({ services: ['s3'], dataDir, logger });
    client = s3Client(second.url);
    try {
      // Start-up read no object: the index is built at the first listing.
      expect(logger.lines.filter((l) => l.message === 's3: bucket index read')).toEqual([]);
      const got = await client.send(new GetObjectCommand({ Bucket: 'kept', Key: 'data/a.png', ChecksumMode: 'ENABLED' }));
      expect([await got.Body!.transformToString(), got.ContentType, got.Metadata, typeof got.ChecksumSHA256]).toEqual(['png bytes', 'image/png', { label: 'apple' }, 'string']);
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'kept' }));
      expect(listed.Contents?.map((c) => c.Key)).toEqual(['../odd/key', 'data/a.png']);
      expect(logger.lines.filter((l) => l.message === 's3: bucket index read')).toHaveLength(1);
      const parts = await client.send(new ListPartsCommand({ Bucket: 'kept', Key: 'pending', UploadId: upload.UploadId }));
      expect(parts.Parts?.map((p) => p.ETag)).toEqual([part.ETag]);
      await client.send(new CompleteMultipartUploadCommand({ Bucket: 'kept', Key: 'pending', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
      expect(await (await client.send(new GetObjectCommand({ Bucket: 'kept', Key: 'pending' }))).Body!.transformToString()).toBe('only part');
      const status = (await second.status()).services.s3 as { buckets: Array<{ name: string; objects: number; bytes: number }> };
      expect(status.buckets).toEqual([{ name: 'kept', region: 'us-east-1', objects: 3, bytes: 9 + 3 + 9 }]);
    } finally {
      client.destroy();
      await second.dispose();
    }
  });

  it('lists a restarted bucket from the index snapshot of the clean close; a write removes it first; a stale one is ignored', async () => {
    const first = await startTestStack({ services: ['s3'], dataDir });
    let client = s3Client(first.url);
    await client.send(new CreateBucketCommand({ Bucket: 'snap' }));
    for (const key of ['a', 'b', 'c']) await client.send(new PutObjectCommand({ Bucket: 'snap', Key: key, Body: key }));
    client.destroy();
    await first.dispose();
    const snapshot = join(dataDir, 's3', 'buckets', 'snap', 'index.json');
    const exists = (file: string) => stat(file).then(() => true, () => false);
    expect(await exists(snapshot)).toBe(true);

    let logger = recordingLogger();
    let stack = await startTestStack({ services: ['s3'], dataDir, logger });
    client = s3Client(stack.url);
    expect((await client.send(new ListObjectsV2Command({ Bucket: 'snap' }))).Contents?.map((c) => c.Key)).toEqual(['a', 'b', 'c']);
    expect(logger.lines.find((l) => l.message === 's3: bucket index read')?.fields).toMatchObject({ from: 'snapshot', objects: 3 });
    await client.send(new PutObjectCommand({ Bucket: 'snap', Key: 'd', Body: 'd' }));
    // Answered, so on disk — and the snapshot, no longer true, is gone (a crash now must not trust it).
    expect(await exists(snapshot)).toBe(false);
    client.destroy();
    await stack.dispose();

    // An object file removed behind the stack's back: the snapshot no longer matches and is not trusted.
    const hash = createHash('sha256').update('b').digest('hex');
    await rm(join(dataDir, 's3', 'buckets', 'snap', 'objects', hash.slice(0, 2), hash));
    logger = recordingLogger();
    stack = await startTestStack({ services: ['s3'], dataDir, logger });
    client = s3Client(stack.url);
    try {
      expect((await client.send(new ListObjectsV2Command({ Bucket: 'snap' }))).Contents?.map((c) => c.Key)).toEqual(['a', 'c', 'd']);
      expect(logger.lines.some((l) => l.level === 'warn' && /snapshot that does not match/.test(l.message))).toBe(true);
      expect(logger.lines.find((l) => l.message === 's3: bucket index read')?.fields).toMatchObject({ from: 'object headers', objects: 3 });
    } finally {
      client.destroy();
      await stack.dispose();
    }
  });

  it('skips a damaged object file in listings (with a warning) and answers 500 naming the file for it', async () => {
    const first = await startTestStack({ services: ['s3'], dataDir });
    const client = s3Client(first.url);
    await client.send(new CreateBucketCommand({ Bucket: 'damaged' }));
    await client.send(new PutObjectCommand({ Bucket: 'damaged', Key: 'good', Body: 'fine' }));
    await client.send(new PutObjectCommand({ Bucket: 'damaged', Key: 'bad', Body: 'will be cut' }));
    client.destroy();
    await first.dispose();
    // Objects live at objects/<h[0:2]>/<h>, h = SHA-256 of the key: cut "bad" so its header no longer parses.
    const hash = createHash('sha256').update('bad').digest('hex');
    await truncate(join(dataDir, 's3', 'buckets', 'damaged', 'objects', hash.slice(0, 2), hash), 20);
    // As after a crash: no index snapshot, so the headers are read.
    await rm(join(dataDir, 's3', 'buckets', 'damaged', 'index.json'), { force: true });
    const logger = recordingLogger();
    const second = await startTestStack({ services: ['s3'], dataDir, logger });
    const c2 = s3Client(second.url);
    try {
      const listed = await c2.send(new ListObjectsV2Command({ Bucket: 'damaged' }));
      expect(listed.Contents?.map((c) => c.Key)).toEqual(['good']);
      expect(logger.lines.some((l) => l.level === 'warn' && l.message === 's3: skipping a damaged object file')).toBe(true);
      await expect(c2.send(new GetObjectCommand({ Bucket: 'damaged', Key: 'bad' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 }, message: expect.stringMatching(/object header|truncated/) });
    } finally {
      c2.destroy();
      await second.dispose();
    }
  });

  describe('a stack process stopped in the middle of an upload', () => {
    let child: ChildProcess | undefined;
    let socket: Socket | undefined;
    afterEach(() => {
      socket?.destroy();
      if (child && child.exitCode === null) child.kill('SIGKILL');
    });

    /** Starts a stack in its own process, puts one object, and starts a 10 MB upload that stalls after 3 MB. */
    const startMidUpload = async () => {
      child = spawn(process.execPath, [join(ROOT, 'tools/run-ts.js'), join(ROOT, 'libs/stack-core/test/s3-stack-process.ts'), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
      const line = await new Promise<string>((ready, failed) => {
        createInterface({ input: child!.stdout! }).once('line', ready);
        child!.once('exit', (code) => failed(new Error(`stack process exited with ${code}`)));
      });
      const { url } = JSON.parse(line) as { url: string };
      const client = s3Client(url);
      await client.send(new CreateBucketCommand({ Bucket: 'crash' }));
      await client.send(new PutObjectCommand({ Bucket: 'crash', Key: 'before', Body: 'complete' }));
      client.destroy();
      const { port } = new URL(url);
      socket = connect(Number(port), '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(`PUT /crash/models/job/weights.bin HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
      socket.write(Buffer.alloc(3 * 1024 * 1024, 1));
      const tmp = join(dataDir, 's3', 'tmp');
      await until('the upload to be written to s3/tmp', async () => (await readdir(tmp)).length > 0);
      return tmp;
    };

    const expectCleanRestart = async () => {
      const stack = await startTestStack({ services: ['s3'], dataDir });
      const client = s3Client(stack.url);
      try {
        expect(await readdir(join(dataDir, 's3', 'tmp'))).toEqual([]);
        const listed = await client.send(new ListObjectsV2Command({ Bucket: 'crash' }));
        expect(listed.Contents?.map((c) => c.Key)).toEqual(['before']);
        const files = await filesUnder(join(dataDir, 's3'));
        expect(files.filter((f) => !/^buckets\/crash\/(bucket\.json|index\.json|objects\/[0-9a-f]{2}\/[0-9a-f]{64})$/.test(f))).toEqual([]);
      } finally {
        client.destroy();
        await stack.dispose();
      }
    };

    it('SIGINT: the stack closes cleanly and leaves no debris, not even in s3/tmp', async () => {
      const tmp = await startMidUpload();
      const exited = new Promise<number | null>((done) => child!.once('exit', done));
      child!.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(await readdir(tmp)).toEqual([]);
      await expectCleanRestart();
    });

    it('SIGKILL: the partial upload stays in s3/tmp only, and the next start removes it', async () => {
      const tmp = await startMidUpload();
      const exited = new Promise<unknown>((done) => child!.once('exit', done));
      child!.kill('SIGKILL');
      await exited;
      expect((await readdir(tmp)).length).toBe(1);
      await expectCleanRestart();
    });
  });
});
