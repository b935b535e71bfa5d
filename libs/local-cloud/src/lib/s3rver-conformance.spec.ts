import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command, paginateListObjectsV2, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, localSdkEnvironment } from './client-config';
import { startLocalS3, type LocalS3 } from './local-s3';
import { listObjects } from './s3-transfer';
import { boto3Python } from '../../../../tools/boto3-python';

const run = promisify(execFile);

// Directory-walk order would put data/test/… before data/test.lst; S3 order is the reverse.
const KEYS = ['data/test.lst', 'data/test/a.png', 'data/test/b.png', 'data/train.lst', 'data/train/a.png', 'data/train/b.png', 'data/train/c.png', 'models/m/manifest.json'];

describe('the embedded S3 lists like S3', () => {
  let dir: string;
  let s3: LocalS3;
  let client: S3Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scones-s3-order-'));
    s3 = await startLocalS3({ directory: dir });
    client = createS3Client(s3.target);
    for (const key of [...KEYS].reverse()) await client.send(new PutObjectCommand({ Bucket: 'scones', Key: key, Body: key }));
  });
  afterAll(async () => {
    client.destroy();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('returns keys in lexicographic order and loses none across V1 pages', async () => {
    const listed = await listObjects(client, 'scones', 'data/', { pageSize: 2 });
    expect([...listed.keys()]).toEqual(KEYS.filter((k) => k.startsWith('data/')));
  });

  it('paginates ListObjectsV2 with continuation tokens (SDK paginator)', async () => {
    const keys: string[] = [];
    const pages: number[] = [];
    for await (const page of paginateListObjectsV2({ client, pageSize: 3 }, { Bucket: 'scones' })) {
      pages.push(page.KeyCount ?? -1);
      keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    }
    expect(keys).toEqual(KEYS);
    expect(pages).toEqual([3, 3, 2]);
  });

  it('rolls keys up into common prefixes with a delimiter, and honours StartAfter', async () => {
    const top = await client.send(new ListObjectsV2Command({ Bucket: 'scones', Prefix: 'data/', Delimiter: '/' }));
    expect((top.Contents ?? []).map((c) => c.Key)).toEqual(['data/test.lst', 'data/train.lst']);
    expect((top.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['data/test/', 'data/train/']);
    const after = await client.send(new ListObjectsV2Command({ Bucket: 'scones', StartAfter: 'data/train/a.png' }));
    expect((after.Contents ?? []).map((c) => c.Key)).toEqual(['data/train/b.png', 'data/train/c.png', 'models/m/manifest.json']);
    expect(after.StartAfter).toBe('data/train/a.png');
  });

  it('rejects a continuation token it did not issue, naming the argument', async () => {
    await expect(client.send(new ListObjectsV2Command({ Bucket: 'scones', ContinuationToken: 'bm90LW91cnM' }))).rejects.toMatchObject({
      name: 'InvalidArgument',
      message: expect.stringMatching(/continuation token/),
    });
  });

  it("works with boto3's paginator (when python3 has boto3)", async () => {
    const python = await boto3Python();
    if (!python) {
      console.warn('boto3 not installed: boto3 pagination not checked in this run');
      return;
    }
    const script = join(dir, 'paginate.py');
    await writeFile(
      script,
      [
        'import os, boto3',
        "s3 = boto3.client('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL_S3'])",
        "pages = s3.get_paginator('list_objects_v2').paginate(Bucket='scones', PaginationConfig={'PageSize': 2})",
        "print('\\n'.join(o['Key'] for p in pages for o in p.get('Contents', [])))",
      ].join('\n'),
    );
    const { stdout } = await run(python, [script], { env: { ...process.env, ...localSdkEnvironment(s3.target), AWS_CONFIG_FILE: '/dev/null' } });
    expect(stdout.trim().split('\n')).toEqual(KEYS);
  });
});
