import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bucketTransfer, createS3Client, listObjects, startLocalS3, type LocalS3 } from '@scones/local-cloud';
import { parseLst } from '@scones/payload-schemas';
import { CIFAR100_FINE_LABEL_NAMES } from './cifar100-labels';
import { directorySink } from './directory-sink';
import { cifarFixtureArchive } from './fixture-archive';
import { s3Sink } from './s3-sink';
import { stageCifar } from './stage-cifar';
import { bicycleMotorcycleArchive, scratch } from '../../test/archives';

/** The keys of PutObject requests, in the order they were sent. */
function recordingPuts(client: S3Client): { client: S3Client; puts: string[] } {
  const puts: string[] = [];
  const send = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  const wrapped = Object.create(client) as S3Client;
  (wrapped as unknown as { send: typeof send }).send = (command, options) => {
    if (command instanceof PutObjectCommand) puts.push(command.input.Key!);
    return send(command, options);
  };
  return { client: wrapped, puts };
}

async function text(client: S3Client, bucket: string, key: string): Promise<string> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return got.Body!.transformToString();
}

describe('stageCifar to S3 (embedded s3rver)', () => {
  jest.setTimeout(60_000);
  let tmp: { dir: string; remove(): Promise<void> };
  let s3: LocalS3;
  let client: S3Client;
  let archive: { path: string; real: boolean };

  beforeAll(async () => {
    tmp = await scratch('stage-s3-');
    s3 = await startLocalS3({ directory: join(tmp.dir, 's3'), buckets: ['scones', 'other'] });
    client = createS3Client(s3.target);
    archive = await bicycleMotorcycleArchive(tmp.dir);
  });
  afterAll(async () => {
    await s3.stop();
    await tmp.remove();
  });

  it('uploads the images, then the manifests last; the same files as a directory run', async () => {
    const recorder = recordingPuts(client);
    const summary = await stageCifar({ source: archive.path, sink: s3Sink(bucketTransfer(recorder.client, 'scones')) });
    expect(summary).toMatchObject({ location: 's3://scones/data/', files: { written: 1200, skipped: 0, removedStale: 0 }, train: { images: 1000 }, test: { images: 200 } });
    expect(recorder.puts).toHaveLength(1202);
    expect(recorder.puts.slice(-2).sort()).toEqual(['data/test.lst', 'data/train.lst']);
    // Listed per directory: s3rver pages a prefix holding both `x.lst` and `x/` out of order.
    expect((await listObjects(client, 'scones', 'data/train/')).size).toBe(1000);
    expect((await listObjects(client, 'scones', 'data/test/')).size).toBe(200);

    const dir = join(tmp.dir, 'disk');
    await stageCifar({ source: archive.path, sink: directorySink(dir) });
    expect(await text(client, 'scones', 'data/train.lst')).toBe(await readFile(join(dir, 'data/train.lst'), 'utf8'));
    const first = parseLst(await text(client, 'scones', 'data/test.lst'))[0];
    const got = await client.send(new GetObjectCommand({ Bucket: 'scones', Key: `data/test/${first.path}` }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(await readFile(join(dir, 'data/test', first.path)))).toBe(true);
  });

  it('re-running uploads nothing and changes nothing', async () => {
    const before = await listObjects(client, 'scones', 'data/train/');
    const recorder = recordingPuts(client);
    const summary = await stageCifar({ source: archive.path, sink: s3Sink(bucketTransfer(recorder.client, 'scones')) });
    expect(summary.files).toEqual({ written: 0, skipped: 1200, removedStale: 0 });
    expect(recorder.puts.sort()).toEqual(['data/test.lst', 'data/train.lst']);
    expect(await listObjects(client, 'scones', 'data/train/')).toEqual(before);
  });

  it('deletes images of an earlier run that the new manifests do not list', async () => {
    const source = join(tmp.dir, 'small.tar.gz');
    await writeFile(source, await cifarFixtureArchive({ trainRows: 300, testRows: 100 }));
    await stageCifar({ source, classes: ['apple', 'bus'], sink: s3Sink(bucketTransfer(client, 'other')) });
    const summary = await stageCifar({ source, classes: ['bus'], sink: s3Sink(bucketTransfer(client, 'other')) });
    expect(summary.files).toEqual({ written: 0, skipped: 4, removedStale: 4 });
    const keys = [...(await listObjects(client, 'other', 'data/')).keys()].sort();
    expect(keys).toEqual(['data/test.lst', 'data/test/bus_s_000013.png', 'data/train.lst', 'data/train/bus_s_000013.png', 'data/train/bus_s_000113.png', 'data/train/bus_s_000213.png']);
  });

  it('removes objects uploaded under a wrong label prediction', async () => {
    const source = join(tmp.dir, 'reversed.tar.gz');
    await writeFile(source, await cifarFixtureArchive({ trainRows: 300, testRows: 100, fineLabelNames: [...CIFAR100_FINE_LABEL_NAMES].reverse() }));
    await s3.stop();
    s3 = await startLocalS3({ directory: join(tmp.dir, 's3-fresh'), buckets: ['fresh'] });
    client = createS3Client(s3.target);
    const summary = await stageCifar({ source, sink: s3Sink(bucketTransfer(client, 'fresh')) });
    expect(summary.speculation).toBe('rejected');
    const keys = [...(await listObjects(client, 'fresh', 'data/')).keys()].filter((k) => k.endsWith('.png'));
    // In this archive fine label 8 is "tractor" and 48 "mountain": their images must not remain.
    expect(keys.length).toBe(8);
    expect(keys.every((k) => /\/(bicycle|motorcycle)_s_/.test(k))).toBe(true);
  });
});
