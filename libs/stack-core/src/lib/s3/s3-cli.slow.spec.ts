import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startTestStack, type TestStack } from '../../testing';
import { run, s3Client } from '../../../test/s3-helpers';

// About 15 AWS CLI runs of 1–5 s each: the slow suite.
jest.setTimeout(600_000);

const MiB = 1024 * 1024;

/** The AWS CLI 2.9 (Debian's, which predates AWS_ENDPOINT_URL) with --endpoint-url, as people use it. */
describe('S3 with the AWS CLI', () => {
  let stack: TestStack;
  let work: string;
  let client: S3Client;
  let big: Buffer;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stack = await startTestStack({ services: ['s3'] });
    work = await mkdtemp(join(tmpdir(), 'scones-s3-cli-'));
    client = s3Client(stack.url);
    big = randomBytes(10 * MiB + 1234);
    await writeFile(join(work, 'big.bin'), big);
    env = { ...process.env, ...stack.context.sdkEnvironment(), AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PAGER: '' };
  });
  afterAll(async () => {
    client.destroy();
    await stack.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('the AWS CLI 2.9: s3 mb, cp up and down (multipart), ls, sync, s3api head-object, rm --recursive, rb', async () => {
    const aws = async (...args: string[]) => (await run('/usr/bin/aws', [...args, '--endpoint-url', stack.url], { env, maxBuffer: 16 * MiB })).stdout;
    expect(await aws('s3', 'mb', 's3://cli-bucket')).toMatch(/make_bucket: cli-bucket/);
    await aws('s3', 'cp', join(work, 'big.bin'), 's3://cli-bucket/big.bin');
    await aws('s3', 'cp', 's3://cli-bucket/big.bin', join(work, 'down-cli.bin'));
    expect((await readFile(join(work, 'down-cli.bin'))).equals(big)).toBe(true);
    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'big.bin', '--output', 'json')) as { ETag: string; ContentLength: number };
    expect(head.ContentLength).toBe(big.length);
    expect(head.ETag).toMatch(/-2"$/);

    const tree = join(work, 'tree');
    await mkdir(join(tree, 'sub dir'), { recursive: true });
    for (const [name, text] of [['a.txt', 'a'], ['sub dir/b.txt', 'b'], ['sub dir/c d.txt', 'c']]) await writeFile(join(tree, name), text);
    const firstSync = await aws('s3', 'sync', tree, 's3://cli-bucket/synced/');
    expect(firstSync.match(/upload:/g)?.length).toBe(3);
    expect(await aws('s3', 'sync', tree, 's3://cli-bucket/synced/')).toBe(''); // nothing changed: nothing sent
    const back = join(work, 'back');
    await aws('s3', 'sync', 's3://cli-bucket/synced/', back);
    expect(await readFile(join(back, 'sub dir', 'c d.txt'), 'utf8')).toBe('c');

    expect(await aws('s3', 'ls', 's3://cli-bucket/')).toMatch(/PRE synced\/[\s\S]*big\.bin/);
    expect(await aws('s3', 'ls', 's3://cli-bucket/synced/', '--recursive')).toMatch(/synced\/sub dir\/c d\.txt/);
    expect(await aws('s3', 'ls')).toMatch(/cli-bucket/);

    const removed = await aws('s3', 'rm', 's3://cli-bucket/', '--recursive');
    expect(removed.match(/delete:/g)?.length).toBe(4);
    expect((await client.send(new ListObjectsV2Command({ Bucket: 'cli-bucket' }))).KeyCount).toBe(0);
    expect(await aws('s3', 'rb', 's3://cli-bucket')).toMatch(/remove_bucket: cli-bucket/);
  });
});
