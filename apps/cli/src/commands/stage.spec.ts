import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  BUNDLED_SUBSET,
  bundledSubsetPath,
  cifarBatchPickleParts,
  cifarFixtureArchive,
  DEFAULT_CACHE_DIRECTORY,
  DEFAULT_CLASSES,
  fixturePixels,
  fixtureRow,
  readTarGz,
  tarGz,
} from '@scones/cifar-decoder';
import { createS3Client, listObjects } from '@scones/local-cloud';
import { startLocalS3 } from '@scones/stack-core/testing';
import { DEFAULT_CACHE_DIR, DEFAULT_CLASS_LIST } from '../cli/library-defaults';

// `scones stage` end to end, as a user runs it (tools/scones.js in a child process). Every test
// has its own directories. S3 is the local stack's: the one running on --data-dir (here an
// S3-only stack this test starts on that directory), or, when none runs, the one the command
// starts for itself.
const launcher = join(__dirname, '../../../../tools/scones.js');
const BUNDLED = bundledSubsetPath()!;
/** A download URL that cannot work (port 9, discard, is one fetch refuses to use): any download attempt fails at once. */
const UNREACHABLE = 'http://127.0.0.1:9/cifar-100-python.tar.gz';

function scones(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [launcher, 'stage', ...args], { timeout: 120_000, env: { ...process.env, SCONES_CIFAR_SOURCE: '', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const lastLine = (text: string) => text.trim().split('\n').at(-1);

/** A loopback server standing in for the dataset's web site; it counts requests. */
async function archiveServer(body: Buffer): Promise<{ url: string; requests: () => number; stop(): Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cifar-100-python.tar.gz`,
    requests: () => requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every staged object in the bucket of the stack data directory `dataDir`, with its ETag (the MD5 of its bytes). */
async function bucketSnapshot(dataDir: string): Promise<Map<string, string>> {
  const s3 = await startLocalS3({ directory: dataDir, buckets: [] });
  try {
    const listing = await listObjects(createS3Client(s3.target), 'scones', 'data/').catch((error: Error) => {
      if (error.name === 'NoSuchBucket' || /NoSuchBucket/.test(error.message)) return new Map<string, { etag: string }>();
      throw error;
    });
    return new Map([...listing].map(([key, info]) => [key, info.etag] as const).sort(([a], [b]) => a.localeCompare(b)));
  } finally {
    await s3.stop();
  }
}

/** The bundled subset's members, to rebuild it without one. */
async function bundledMembers(): Promise<Array<{ name: string; data: Buffer }>> {
  const members: Array<{ name: string; data: Buffer }> = [];
  await readTarGz(BUNDLED, {
    onMember: (name) => {
      const chunks: Buffer[] = [];
      return { data: (chunk) => chunks.push(Buffer.from(chunk)), end: () => members.push({ name, data: Buffer.concat(chunks) }) };
    },
  });
  return members;
}

/** Big enough that images would be uploaded while it streams, were anything uploaded before the whole archive is checked. */
const VEHICLES = { trainRows: 2000, testRows: 400, classes: ['bicycle', 'motorcycle'] };

/** A train pickle whose `data` has shape (rows, 3, 1024) instead of (rows, 3072). */
function wrongShapeTrainPickle(rows: number): Buffer {
  const fixture = Array.from({ length: rows }, (_, row) => fixtureRow('train', row, VEHICLES));
  const parts = cifarBatchPickleParts({
    batchLabel: 'training batch 1 of 1',
    filenames: fixture.map((r) => r.filename),
    fineLabels: fixture.map((r) => r.fineLabel),
    coarseLabels: fixture.map((r) => r.coarseLabel),
  });
  const shape = Buffer.from([0x4d, 0x00, 0x0c, 0x86]); // BININT2 3072, TUPLE2 -> BININT1 3, BININT2 1024, TUPLE3
  const at = parts.head.indexOf(shape);
  const head = Buffer.concat([parts.head.subarray(0, at), Buffer.from([0x4b, 3, 0x4d, 0x00, 0x04, 0x87]), parts.head.subarray(at + shape.length)]);
  return Buffer.concat([head, ...Array.from({ length: rows }, (_, row) => fixturePixels('train', row)), parts.tail]);
}

describe('scones stage', () => {
  // Generous: each test runs the CLI (and a local stack) two or three times, on a machine that may be busy.
  jest.setTimeout(180_000);
  let dirs: string[] = [];
  /** A directory of this test's own. */
  const scratch = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scones-stage-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    dirs = [];
  });

  it("spells out the library's defaults", () => {
    expect(DEFAULT_CLASS_LIST).toBe(DEFAULT_CLASSES.join(','));
    expect(DEFAULT_CACHE_DIR).toBe(DEFAULT_CACHE_DIRECTORY);
  });

  it('stages the default classes from the bundled subset, without the network', async () => {
    const dir = await scratch();
    const out = join(dir, 'out');
    const cache = join(dir, 'cache');
    const { code, stdout, stderr } = await scones(['--out', out, '--cache-dir', cache, '--json'], { SCONES_CIFAR_URL: UNREACHABLE });
    expect(stderr).not.toContain('error');
    expect(code).toBe(0);
    expect(stderr.split('\n')[0]).toBe(`source: bundled subset ${BUNDLED} (the real CIFAR-100 bicycle and motorcycle rows, shipped in the repository; no download)`);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({
      ok: true,
      command: 'stage',
      source: BUNDLED,
      sourceKind: 'bundled',
      classes: [
        { name: 'bicycle', label: 0 },
        { name: 'motorcycle', label: 1 },
      ],
      train: { images: 1000, perClass: { bicycle: 500, motorcycle: 500 } },
      test: { images: 200, perClass: { bicycle: 100, motorcycle: 100 } },
      manifests: ['data/train.lst', 'data/test.lst'],
    });
    expect(summary.seconds).toBeGreaterThan(0);
    expect((await readdir(join(out, 'data/train'))).length).toBe(1000);
    expect((await readFile(join(out, 'data/test.lst'), 'utf8')).trim().split('\n')).toHaveLength(200);
    expect(existsSync(cache)).toBe(false); // nothing was downloaded
  });

  it('says where the data came from in its human output', async () => {
    const dir = await scratch();
    const { code, stdout } = await scones(['--out', join(dir, 'out'), '--classes', 'motorcycle,bicycle'], { SCONES_CIFAR_URL: UNREACHABLE });
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      'staged 1000 train images (motorcycle 500, bicycle 500) and 200 test images (motorcycle 100, bicycle 100)',
      `from the bundled subset ${BUNDLED}`,
      expect.stringMatching(new RegExp(`^to ${join(dir, 'out', 'data')} with data/train\\.lst and data/test\\.lst in \\d+\\.\\d s \\(1200 files written\\)$`)),
      '',
    ]);
  });

  it('uploads to the stack running on --data-dir, creating the bucket, idempotently, and never touches the network with --source', async () => {
    const dir = await scratch();
    const fixture = await cifarFixtureArchive({ trainRows: 200, testRows: 100 });
    const site = await archiveServer(fixture);
    const source = join(dir, 'fixture.tar.gz');
    await writeFile(source, fixture);
    const dataDir = join(dir, 'stack');
    // A stack of S3 alone on the data directory, with no bucket yet: the command finds it and uses it.
    const s3 = await startLocalS3({ directory: dataDir, buckets: [] });
    const env = { SCONES_CIFAR_URL: site.url };
    try {
      const first = await scones(['--source', source, '--data-dir', dataDir, '--json'], env);
      expect(first.code).toBe(0);
      expect(first.stderr).not.toContain('started a local stack');
      expect(JSON.parse(first.stdout)).toMatchObject({ location: 's3://scones/data/', source, sourceKind: 'file', files: { written: 6, skipped: 0 } });
      const again = await scones(['--source', source, '--data-dir', dataDir, '--json'], env);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout).files).toEqual({ written: 0, skipped: 6, removedStale: 0 });
      expect(site.requests()).toBe(0);

      const client = createS3Client(s3.target);
      expect([...(await listObjects(client, 'scones', 'data/train/')).keys()].sort()).toEqual([
        'data/train/bicycle_s_000008.png',
        'data/train/bicycle_s_000108.png',
        'data/train/motorcycle_s_000048.png',
        'data/train/motorcycle_s_000148.png',
      ]);
      const lst = await client.send(new GetObjectCommand({ Bucket: 'scones', Key: 'data/train.lst' }));
      expect(await lst.Body!.transformToString()).toBe('8\t0\tbicycle_s_000008.png\n48\t1\tmotorcycle_s_000048.png\n108\t0\tbicycle_s_000108.png\n148\t1\tmotorcycle_s_000148.png\n');
    } finally {
      await site.stop();
      await s3.stop();
    }
  });

  it('starts a stack for itself when none runs on --data-dir, and leaves the data there', async () => {
    const dir = await scratch();
    const dataDir = join(dir, 'stack');
    const source = join(dir, 'fixture.tar.gz');
    await writeFile(source, await cifarFixtureArchive({ trainRows: 200, testRows: 100 }));
    const { code, stderr } = await scones(['--source', source, '--data-dir', dataDir, '--json']);
    expect(code).toBe(0);
    expect(stderr).toContain('scones: started a local stack at http://127.0.0.1:');
    expect(stderr).toContain(`(data in ${dataDir}; \`scones up\` keeps one running)`);
    expect([...(await bucketSnapshot(dataDir)).keys()]).toEqual(
      [
        'data/test.lst',
        'data/test/bicycle_s_000008.png',
        'data/test/motorcycle_s_000048.png',
        'data/train.lst',
        'data/train/bicycle_s_000008.png',
        'data/train/bicycle_s_000108.png',
        'data/train/motorcycle_s_000048.png',
        'data/train/motorcycle_s_000148.png',
      ].sort(),
    );
  });

  it('--target aws uploads to the bucket of the S3 the environment points at (it never creates one)', async () => {
    const dir = await scratch();
    const source = join(dir, 'fixture.tar.gz');
    await writeFile(source, await cifarFixtureArchive({ trainRows: 200, testRows: 100 }));
    const s3 = await startLocalS3({ buckets: ['aws-bucket'] });
    try {
      // What `eval "$(scones env)"` sets: the SDK's own environment, nothing of the local target.
      const env = { AWS_ENDPOINT_URL: s3.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', SCONES_DATA_DIR: join(dir, 'unused') };
      const staged = await scones(['--target', 'aws', '--bucket', 'aws-bucket', '--source', source, '--data-prefix', 'course/', '--json'], env);
      expect({ code: staged.code, stderr: staged.code === 0 ? '' : staged.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(staged.stdout)).toMatchObject({ manifests: ['course/train.lst', 'course/test.lst'], files: { written: 6 } });
      expect([...(await listObjects(createS3Client(s3.target), 'aws-bucket', '')).keys()].sort()).toEqual(
        [
          'course/test.lst',
          'course/test/bicycle_s_000008.png',
          'course/test/motorcycle_s_000048.png',
          'course/train.lst',
          'course/train/bicycle_s_000008.png',
          'course/train/bicycle_s_000108.png',
          'course/train/motorcycle_s_000048.png',
          'course/train/motorcycle_s_000148.png',
        ].sort(),
      );
      const missing = await scones(['--target', 'aws', '--bucket', 'no-such-bucket', '--source', source], env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('no-such-bucket');
      expect(missing.stderr).toContain('NoSuchBucket');
      expect(existsSync(join(dir, 'unused'))).toBe(false); // no local stack was involved
    } finally {
      await s3.stop();
    }
  });

  it('downloads into the cache for other classes or with --download, and verifies the MD5', async () => {
    const dir = await scratch();
    const fixture = await cifarFixtureArchive({ trainRows: 200, testRows: 100 });
    const site = await archiveServer(fixture);
    const cache = join(dir, 'cache');
    const md5 = createHash('md5').update(fixture).digest('hex');
    try {
      const ok = await scones(['--out', join(dir, 'downloaded'), '--cache-dir', cache, '--classes', 'bus,train', '--json'], { SCONES_CIFAR_URL: site.url, SCONES_CIFAR_MD5: md5 });
      expect(ok.code).toBe(0);
      expect(ok.stderr.split('\n')[0]).toBe('source: downloaded archive: the full CIFAR-100 (161 MB, md5-checked, cached) because the bundled subset holds only bicycle and motorcycle');
      expect(JSON.parse(ok.stdout)).toMatchObject({ source: join(cache, 'cifar-100-python.tar.gz'), sourceKind: 'download', train: { images: 4, perClass: { bus: 2, train: 2 } } });
      expect(site.requests()).toBe(1);

      // --download wins over SCONES_CIFAR_SOURCE (the command line is the more specific choice).
      const asked = await scones(['--download', '--out', join(dir, 'asked'), '--cache-dir', cache, '--json'], { SCONES_CIFAR_URL: site.url, SCONES_CIFAR_MD5: md5, SCONES_CIFAR_SOURCE: BUNDLED });
      expect(asked.code).toBe(0);
      expect(JSON.parse(asked.stdout)).toMatchObject({ sourceKind: 'download', train: { images: 4, perClass: { bicycle: 2, motorcycle: 2 } } });
      expect(asked.stderr).toContain(`using the verified archive in ${join(cache, 'cifar-100-python.tar.gz')}`);
      expect(site.requests()).toBe(1); // the cached copy

      const bad = await scones(['--download', '--out', join(dir, 'never'), '--cache-dir', join(dir, 'cache2')], { SCONES_CIFAR_URL: site.url, SCONES_CIFAR_MD5: '0'.repeat(32) });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`scones stage: error: ChecksumMismatchError: ${site.url}: MD5 of the downloaded file is ${md5}, expected ${'0'.repeat(32)}`);
      expect(await readdir(join(dir, 'cache2'))).toEqual([]);
      expect(existsSync(join(dir, 'never'))).toBe(false);
    } finally {
      await site.stop();
    }
  });

  it('says how to stage offline when other classes need a download that cannot connect', async () => {
    const dir = await scratch();
    // A loopback port nothing listens on any more: the connection is refused at once, as offline.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/cifar-100-python.tar.gz`;
    await new Promise((resolve) => closed.close(resolve));
    const { code, stderr } = await scones(['--out', join(dir, 'offline'), '--cache-dir', join(dir, 'cache'), '--classes', 'bus,train'], { SCONES_CIFAR_URL: url });
    expect(code).toBe(1);
    expect(stderr).toContain(`scones stage: error: DownloadError: GET ${url}: `);
    expect(lastLine(stderr)).toMatch(
      /ECONNREFUSED.*; to stage without downloading, pass --source <cifar-100-python\.tar\.gz> \(or set SCONES_CIFAR_SOURCE\) \(the bundled subset holds only bicycle and motorcycle\)$/,
    );
    expect(existsSync(join(dir, 'offline'))).toBe(false);
  });

  it('fails with one clear line and exit 1 on a bad archive', async () => {
    const dir = await scratch();
    const notGzip = join(dir, 'not.tar.gz');
    await writeFile(notGzip, 'hello');
    const { code, stdout, stderr } = await scones(['--source', notGzip, '--out', join(dir, 'bad'), '--json']);
    expect(code).toBe(1);
    expect(lastLine(stderr)).toBe(`scones stage: error: NotGzipError: ${notGzip}: not a gzip file (starts with 68656c6c; expected 1f8b, a .tar.gz)`);
    expect(JSON.parse(stdout)).toMatchObject({ ok: false, error: { name: 'NotGzipError' } });

    const notTar = join(dir, 'not-tar.tar.gz');
    await writeFile(notTar, gzipSync('hello'));
    const gzipOnly = await scones(['--source', notTar, '--out', join(dir, 'bad')]);
    expect(gzipOnly.code).toBe(1);
    expect(lastLine(gzipOnly.stderr)).toBe(
      `scones stage: error: NotTarError: ${notTar}: a gzip file, but not a tar archive: it holds text starting "hello" (5 bytes); expected cifar-100-python.tar.gz, a gzipped tar archive`,
    );
  });

  describe('a failed stage to S3 leaves the staged set as it was', () => {
    const truncated = async (dir: string) => {
      const path = join(dir, 'cut.tar.gz');
      const bytes = await cifarFixtureArchive(VEHICLES);
      await writeFile(path, bytes.subarray(0, Math.floor(bytes.length * 0.9)));
      return path;
    };
    const wrongShape = async (dir: string) => {
      const path = join(dir, 'wrong-shape.tar.gz');
      await writeFile(path, await cifarFixtureArchive({ ...VEHICLES, replace: { train: wrongShapeTrainPickle(VEHICLES.trainRows) } }));
      return path;
    };
    const withoutTest = async (dir: string) => {
      const path = join(dir, 'no-test.tar.gz');
      await writeFile(path, await tarGz((await bundledMembers()).filter((m) => m.name !== 'cifar-100-python/test')));
      return path;
    };
    it.each([
      ['a truncated archive', truncated, [], (path: string) => `TruncatedArchiveError: ${path}: the gzip stream ends early (truncated download?)`],
      ['a pickle of the wrong shape', wrongShape, [], () => 'ShapeMismatchError: cifar-100-python/train: "data" has shape (2000, 3, 1024), expected (rows, 3072)'],
      ['an archive without its test member', withoutTest, [], (path: string) => `MissingMemberError: ${path}: no cifar-100-python/test member`],
      [
        'classes with no rows in the archive',
        async () => BUNDLED,
        ['--classes', 'apple,orange'],
        () => `EmptyClassError: ${BUNDLED}: no rows of classes "apple", "orange" in cifar-100-python/train (it has training rows of bicycle, motorcycle only); nothing was staged`,
      ],
    ] as const)('%s: exit 1, a clear error, nothing written', async (_, make, args, message) => {
      const dir = await scratch();
      const dataDir = join(dir, 'stack');
      const previous = join(dir, 'previous.tar.gz');
      await writeFile(previous, await cifarFixtureArchive({ trainRows: 300, testRows: 100 }));
      expect((await scones(['--source', previous, '--data-dir', dataDir])).code).toBe(0);
      const before = await bucketSnapshot(dataDir);
      expect(before.size).toBe(10); // 8 images and 2 manifests

      const source = await make(dir);
      const { code, stderr } = await scones(['--source', source, '--data-dir', dataDir, ...args]);
      expect(code).toBe(1);
      expect(lastLine(stderr)).toContain(`scones stage: error: ${message(source)}`);
      expect(await bucketSnapshot(dataDir)).toEqual(before);
    });

    it('into an empty bucket: nothing at all', async () => {
      const dir = await scratch();
      const dataDir = join(dir, 'stack');
      const { code } = await scones(['--source', await wrongShape(dir), '--data-dir', dataDir]);
      expect(code).toBe(1);
      expect((await bucketSnapshot(dataDir)).size).toBe(0);
    });
  });

  it.each([
    [['--classes', 'bicycle,,bus'], '--classes: class list "bicycle,,bus": empty class name'],
    [['--classes', 'bicyle,motorcycle'], '--classes: unknown class "bicyle" (did you mean "bicycle"?); CIFAR-100\'s 100 fine labels are: apple, aquarium_fish,'],
    [['--classes', 'bicycle,bicycle'], '--classes: class "bicycle" is listed twice'],
    [['--classes', 'bicycle'], '--classes: expected at least two classes (train needs two or more to tell apart), got "bicycle"'],
    [['--download', '--source', BUNDLED_SUBSET.fileName], '--download and --source exclude each other'],
    [['--target', 'aws'], '--bucket is required with --target aws'],
    [['--target', 'aws', '--bucket', 'b', '--out', 'x'], '--out writes to a directory instead of S3; leave out --target aws'],
  ])('exits 2 on a bad command line, before any work: %j', async (args, message) => {
    const dir = await scratch();
    const { code, stderr } = await scones([...args, '--data-dir', join(dir, 'stack'), '--cache-dir', join(dir, 'cache')], { SCONES_CIFAR_URL: UNREACHABLE });
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).not.toContain('started a local stack');
    expect(await readdir(dir)).toEqual([]); // no stack data, no cache
  });
});
