import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bucketTransfer, createS3Client, listObjects } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { parseLst } from '@scones/payload-schemas';
import { EmptyClassError, MissingMemberError, ShapeMismatchError, StageOutputError, TruncatedArchiveError } from '../errors';
import { CIFAR100_FINE_LABEL_NAMES } from './cifar100-labels';
import { directorySink } from './directory-sink';
import { cifarFixtureArchive, fixturePixels, fixtureRow, type CifarFixtureOptions } from './fixture-archive';
import { encodeCifarBatchPickle } from './pickle-writer';
import { s3Sink } from './s3-sink';
import { stageCifar, type StageCifarOptions, type StageProgress } from './stage-cifar';
import { REAL_SUBSET, realSubsetWithout, scratch, wrongShapeTrainPickle } from '../../test/archives';

/** One S3 request as the log shows it: `PUT data/train/a.png`, `DELETE data/x.png,data/y.png`, `GET ...`, `LIST ...`. */
function requestOf(command: unknown): string {
  if (command instanceof PutObjectCommand) return `PUT ${command.input.Key}`;
  if (command instanceof DeleteObjectsCommand) return `DELETE ${(command.input.Delete?.Objects ?? []).map((o) => o.Key).join(',')}`;
  if (command instanceof GetObjectCommand) return `GET ${command.input.Key}`;
  if (command instanceof ListObjectsCommand) return `LIST ${command.input.Prefix}`;
  return (command as object).constructor.name;
}

/** What S3 answers when it fails a request (the SDK's error shape for a 500). */
function internalError(): Error {
  return Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
}

/**
 * The real client with a log of its requests, and a fault injector: `fault(request)` may return
 * an error to answer instead of sending (the failures a real S3 server cannot be made to give on
 * cue); everything else goes to the embedded S3.
 */
function instrumented(client: S3Client, fault?: (request: string, log: readonly string[]) => Error | void): { client: S3Client; log: string[] } {
  const log: string[] = [];
  const send = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  const wrapped = Object.create(client) as S3Client;
  (wrapped as unknown as { send: typeof send }).send = async (command, options) => {
    const request = requestOf(command);
    log.push(request);
    const error = fault?.(request, log);
    if (error) throw error;
    return send(command, options);
  };
  return { client: wrapped, log };
}

const writes = (log: readonly string[]) => log.filter((r) => r.startsWith('PUT ') || r.startsWith('DELETE '));

describe('stageCifar to S3 (embedded S3)', () => {
  jest.setTimeout(120_000);
  let tmp: { dir: string; remove(): Promise<void> };
  let s3: LocalS3;
  let client: S3Client;

  beforeAll(async () => {
    tmp = await scratch('stage-s3-');
    s3 = await startLocalS3({ directory: join(tmp.dir, 's3') });
    client = createS3Client(s3.target);
  });
  afterAll(async () => {
    await s3.stop();
    await tmp.remove();
  });

  /** A bucket of its own for each test. */
  async function freshBucket(): Promise<string> {
    const bucket = `stage-${randomBytes(4).toString('hex')}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return bucket;
  }

  /** A fixture archive written to a file of its own. */
  async function fixture(options: CifarFixtureOptions): Promise<string> {
    const path = join(tmp.dir, `fixture-${randomBytes(4).toString('hex')}.tar.gz`);
    await writeFile(path, await cifarFixtureArchive(options));
    return path;
  }

  /** Every staged object (images and manifests) with its ETag, the MD5 of its bytes. */
  async function snapshot(bucket: string): Promise<Map<string, string>> {
    const listings = await Promise.all(['data/train/', 'data/test/', 'data/train.lst', 'data/test.lst'].map((prefix) => listObjects(client, bucket, prefix)));
    return new Map(listings.flatMap((listing) => [...listing].map(([key, info]) => [key, info.etag] as const)).sort(([a], [b]) => a.localeCompare(b)));
  }

  async function text(bucket: string, key: string): Promise<string> {
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return got.Body!.transformToString();
  }

  const stageTo = (bucket: string, options: Omit<StageCifarOptions, 'sink'>, via: S3Client = client) => stageCifar({ ...options, sink: s3Sink(bucketTransfer(via, bucket)) });

  /** A small staged set (8 images) to fail over. */
  async function previousSet(bucket: string, classes = ['bicycle', 'motorcycle']): Promise<Map<string, string>> {
    await stageTo(bucket, { source: await fixture({ trainRows: 300, testRows: 100 }), classes });
    const before = await snapshot(bucket);
    expect(before.size).toBe(10);
    return before;
  }

  it('uploads the real rows only once the archive is decoded, the manifests last; the same files as a directory run', async () => {
    const bucket = await freshBucket();
    let phase: StageProgress['phase'] = 'read';
    const phaseAtPut = new Set<string>();
    const { client: recorder, log } = instrumented(client, (request) => {
      if (request.startsWith('PUT ')) phaseAtPut.add(phase);
    });
    const summary = await stageTo(bucket, { source: REAL_SUBSET, onProgress: (p) => (phase = p.phase) }, recorder);
    expect(summary).toMatchObject({ location: `s3://${bucket}/data/`, files: { written: 1200, skipped: 0, removedStale: 0 }, train: { images: 1000 }, test: { images: 200 } });
    expect([...phaseAtPut]).toEqual(['commit']); // no PUT while the archive was being read
    const puts = log.filter((r) => r.startsWith('PUT '));
    expect(puts).toHaveLength(1202);
    expect(puts.slice(-2)).toEqual(['PUT data/train.lst', 'PUT data/test.lst']);
    expect((await listObjects(client, bucket, 'data/train/')).size).toBe(1000);
    expect((await listObjects(client, bucket, 'data/test/')).size).toBe(200);

    const dir = join(tmp.dir, `disk-${bucket}`);
    await stageCifar({ source: REAL_SUBSET, sink: directorySink(dir) });
    expect(await text(bucket, 'data/train.lst')).toBe(await readFile(join(dir, 'data/train.lst'), 'utf8'));
    const first = parseLst(await text(bucket, 'data/test.lst'))[0];
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `data/test/${first.path}` }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(await readFile(join(dir, 'data/test', first.path)))).toBe(true);
  });

  it('re-running uploads nothing and changes nothing', async () => {
    const bucket = await freshBucket();
    const source = await fixture({ trainRows: 300, testRows: 100 });
    await stageTo(bucket, { source });
    const before = await snapshot(bucket);
    const { client: recorder, log } = instrumented(client);
    const summary = await stageTo(bucket, { source }, recorder);
    expect(summary.files).toEqual({ written: 0, skipped: 8, removedStale: 0 });
    expect(writes(log)).toEqual(['PUT data/train.lst', 'PUT data/test.lst']);
    expect(await snapshot(bucket)).toEqual(before);
  });

  it('deletes images of the previous set that the new one does not list, only after the new manifests', async () => {
    const bucket = await freshBucket();
    const source = await fixture({ trainRows: 300, testRows: 100 });
    await stageTo(bucket, { source, classes: ['apple', 'bus'] });
    const { client: recorder, log } = instrumented(client);
    const summary = await stageTo(bucket, { source, classes: ['bus', 'cup'] }, recorder);
    expect(summary.files).toEqual({ written: 4, skipped: 4, removedStale: 4 });
    const done = writes(log);
    expect(done.slice(-3, -1)).toEqual(['PUT data/train.lst', 'PUT data/test.lst']);
    expect(done.at(-1)?.split(' ')[1].split(',').sort()).toEqual([
      'data/test/apple_s_000000.png',
      'data/train/apple_s_000000.png',
      'data/train/apple_s_000100.png',
      'data/train/apple_s_000200.png',
    ]);
    const keys = [...(await snapshot(bucket)).keys()];
    expect(keys.filter((k) => k.includes('apple'))).toEqual([]);
    expect(keys).toHaveLength(10);
  });

  it('never uploads images of a wrong label prediction', async () => {
    const bucket = await freshBucket();
    const source = await fixture({ trainRows: 300, testRows: 100, fineLabelNames: [...CIFAR100_FINE_LABEL_NAMES].reverse() });
    const { client: recorder, log } = instrumented(client);
    const summary = await stageTo(bucket, { source }, recorder);
    expect(summary.speculation).toBe('rejected');
    // In this archive fine label 8 is "tractor" and 48 "mountain": the prediction encoded them, and none was uploaded.
    const images = log.filter((r) => r.startsWith('PUT ') && r.endsWith('.png'));
    expect(images).toHaveLength(8);
    expect(images.every((r) => /\/(bicycle|motorcycle)_s_/.test(r))).toBe(true);
  });

  describe('a failed stage writes nothing and leaves the previous set intact', () => {
    const truncated = async () => {
      const bytes = await cifarFixtureArchive({ trainRows: 2000, testRows: 400 });
      const path = join(tmp.dir, `cut-${randomBytes(4).toString('hex')}.tar.gz`);
      await writeFile(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      return path;
    };
    it.each([
      ['a truncated archive', truncated, undefined, TruncatedArchiveError],
      ['a train pickle of the wrong shape', () => fixture({ trainRows: 2000, testRows: 400, replace: { train: wrongShapeTrainPickle(2000) } }), undefined, ShapeMismatchError],
      ['an archive without its test member', () => realSubsetWithout('test', tmp.dir), undefined, MissingMemberError],
      ['classes without rows in the archive', async () => REAL_SUBSET, ['apple', 'orange'], EmptyClassError],
    ] as const)('%s', async (_, source, classes, errorClass) => {
      const bucket = await freshBucket();
      const before = await previousSet(bucket);
      const { client: recorder, log } = instrumented(client);
      await expect(stageTo(bucket, { source: await source(), classes }, recorder)).rejects.toThrow(errorClass);
      expect(writes(log)).toEqual([]);
      expect(await snapshot(bucket)).toEqual(before);
    });

    it('names the class and the archive when a class has no rows', async () => {
      const bucket = await freshBucket();
      await expect(stageTo(bucket, { source: REAL_SUBSET, classes: ['apple', 'orange'] })).rejects.toThrow(
        new EmptyClassError(`${REAL_SUBSET}: no rows of classes "apple", "orange" in cifar-100-python/train (it has training rows of bicycle, motorcycle only); nothing was staged`),
      );
      await expect(stageTo(bucket, { source: REAL_SUBSET, classes: ['bicycle', 'apple'] })).rejects.toThrow('no rows of class "apple" in cifar-100-python/train');
      expect((await snapshot(bucket)).size).toBe(0);
    });
  });

  describe('a failed upload is rolled back', () => {
    it('deletes what it wrote when a PUT fails midway', async () => {
      const bucket = await freshBucket();
      const before = await previousSet(bucket);
      let puts = 0;
      const { client: recorder, log } = instrumented(client, (request) => (request.startsWith('PUT ') && ++puts === 5 ? internalError() : undefined));
      const source = await fixture({ trainRows: 300, testRows: 100 });
      await expect(stageTo(bucket, { source, classes: ['apple', 'bus'] }, recorder)).rejects.toThrow(/^put s3:\/\/stage-\w+\/data\/\w+\/\w+\.png: InternalError: We encountered an internal error\. Please try again\. \(HTTP 500\)$/);
      expect(await snapshot(bucket)).toEqual(before);
      // Every image whose PUT was sent (16 at a time: all 8 here) is deleted again; no manifest was written.
      const sent = log.filter((r) => r.startsWith('PUT ')).map((r) => r.slice(4));
      expect(sent).toHaveLength(8);
      expect(sent.every((key) => key.endsWith('.png'))).toBe(true);
      expect(log.at(-1)!.replace('DELETE ', '').split(',').sort()).toEqual(sent.sort());
    });

    it('puts back the old bytes of images it replaced, and the old manifests, when a manifest cannot be written', async () => {
      const bucket = await freshBucket();
      const before = await previousSet(bucket);
      // The same train rows with other pixels: the six selected train images change, the test images do not.
      const rows = Array.from({ length: 300 }, (_, row) => fixtureRow('train', row));
      const data = Buffer.concat(rows.map((_, row) => Buffer.from(fixturePixels('train', row).map((v) => 255 - v))));
      const train = encodeCifarBatchPickle({
        batchLabel: 'training batch 1 of 1',
        filenames: rows.map((r) => r.filename),
        fineLabels: rows.map((r) => r.fineLabel),
        coarseLabels: rows.map((r) => r.coarseLabel),
        data,
      });
      const source = await fixture({ trainRows: 300, testRows: 100, replace: { train } });
      const { client: recorder, log } = instrumented(client, (request) => (request === 'PUT data/test.lst' ? internalError() : undefined));
      await expect(stageTo(bucket, { source }, recorder)).rejects.toThrow(`put s3://${bucket}/data/test.lst: InternalError`);
      expect(log.filter((r) => r.startsWith('PUT data/train/'))).toHaveLength(12); // 6 new bytes, then 6 old ones put back
      expect(log).toContain('PUT data/train.lst');
      expect(await snapshot(bucket)).toEqual(before);
    });

    it('stops when aborted, rolls back, and rejects with the reason', async () => {
      const bucket = await freshBucket();
      const before = await previousSet(bucket);
      const controller = new AbortController();
      const reason = new Error('Ctrl-C');
      let puts = 0;
      const { client: recorder } = instrumented(client, (request) => {
        if (request.startsWith('PUT ') && ++puts === 3) controller.abort(reason);
      });
      const source = await fixture({ trainRows: 300, testRows: 100 });
      await expect(stageTo(bucket, { source, classes: ['apple', 'bus'], signal: controller.signal }, recorder)).rejects.toBe(reason);
      expect(await snapshot(bucket)).toEqual(before);
    });

    it('says so when the rollback fails too', async () => {
      const bucket = await freshBucket();
      await previousSet(bucket);
      let puts = 0;
      const { client: recorder } = instrumented(client, (request) =>
        (request.startsWith('PUT ') && ++puts === 3) || request.startsWith('DELETE ') ? internalError() : undefined,
      );
      const source = await fixture({ trainRows: 300, testRows: 100 });
      const failure = stageTo(bucket, { source, classes: ['apple', 'bus'] }, recorder);
      await expect(failure).rejects.toThrow(StageOutputError);
      await expect(failure).rejects.toThrow(/: InternalError: .*; rolling back also failed \(delete \d objects from s3:\/\/stage-\w+: InternalError: .*\): s3:\/\/stage-\w+\/data\/ may hold part of the new set; run the stage again$/);
    });

    it('reports stale images it could not delete once the new set is in place', async () => {
      const bucket = await freshBucket();
      await previousSet(bucket, ['apple', 'bus']);
      const { client: recorder } = instrumented(client, (request) => (request.startsWith('DELETE ') ? internalError() : undefined));
      const source = await fixture({ trainRows: 300, testRows: 100 });
      await expect(stageTo(bucket, { source, classes: ['bus', 'cup'] }, recorder)).rejects.toThrow(
        new RegExp(`^staged the new set in s3://${bucket}/data/, but could not delete 4 images of the previous one that it does not list \\(.*InternalError.*\\); a re-run deletes them$`),
      );
      expect(parseLst(await text(bucket, 'data/train.lst')).map((r) => r.path)).toEqual(['bus_s_000013.png', 'cup_s_000028.png', 'bus_s_000113.png', 'cup_s_000128.png', 'bus_s_000213.png', 'cup_s_000228.png']);
    });
  });
});
