import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client, localSdkEnvironment } from './client-config';
import { startLocalS3, type LocalS3 } from './local-s3';
import { boto3Python } from '../../../../tools/boto3-python';

const run = promisify(execFile);


describe('startLocalS3', () => {
  let dir: string;
  let s3: LocalS3;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scones-s3-'));
    s3 = await startLocalS3({ directory: dir, buckets: ['scones', 'other'] });
  });
  afterAll(async () => {
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on a random loopback port and creates the buckets', async () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3.port).toBeGreaterThan(0);
    const client = createS3Client(s3.target);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'other' }));
    expect(listed.KeyCount).toBe(0);
  });

  it('round-trips an object with @aws-sdk/client-s3', async () => {
    const client = createS3Client(s3.target);
    await client.send(new PutObjectCommand({ Bucket: 'scones', Key: 'data/test/a.png', Body: Buffer.from([1, 2, 3]), ContentType: 'image/png' }));
    const got = await client.send(new GetObjectCommand({ Bucket: 'scones', Key: 'data/test/a.png' }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(Buffer.from([1, 2, 3]));
  });

  it('answers NoSuchKey for a missing object', async () => {
    const client = createS3Client(s3.target);
    await expect(client.send(new GetObjectCommand({ Bucket: 'scones', Key: 'nope' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('works with boto3 (when python3 has boto3)', async () => {
    const python = await boto3Python();
    if (!python) {
      // Reported, not silently passed: CI installs Debian's python3-boto3 so this runs there.
      console.warn('boto3 not installed: boto3 interoperability not checked in this run');
      return;
    }
    const script = join(dir, 'boto.py');
    await writeFile(
      script,
      [
        'import os, boto3',
        // Debian's boto3 (1.26) predates AWS_ENDPOINT_URL_S3, so the endpoint is passed explicitly.
        "s3 = boto3.client('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL_S3'])",
        "s3.put_object(Bucket='scones', Key='from-boto3.txt', Body=b'hello')",
        "print(s3.get_object(Bucket='scones', Key='data/test/a.png')['Body'].read().hex())",
      ].join('\n'),
    );
    const { stdout } = await run(python, [script], { env: { ...process.env, ...localSdkEnvironment(s3.target), AWS_CONFIG_FILE: '/dev/null' } });
    expect(stdout.trim()).toBe('010203');
    const got = await createS3Client(s3.target).send(new GetObjectCommand({ Bucket: 'scones', Key: 'from-boto3.txt' }));
    expect(await got.Body!.transformToString()).toBe('hello');
  });

  it('stops cleanly and twice', async () => {
    const other = await startLocalS3({ directory: dir });
    await other.stop();
    await other.stop();
    const client = createS3Client(other.target);
    await expect(client.send(new ListObjectsV2Command({ Bucket: 'scones' }))).rejects.toThrow();
  });

  it('fails clearly when the port is taken', async () => {
    await expect(startLocalS3({ directory: dir, port: s3.port })).rejects.toThrow(/embedded S3: cannot listen on 127\.0\.0\.1:\d+/);
  });
});
