import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { cifarFixtureArchive, DEFAULT_CACHE_DIRECTORY, DEFAULT_CLASSES } from '@scones/cifar-decoder';
import { createS3Client, listObjects, startLocalS3 } from '@scones/local-cloud';
import { DEFAULT_CACHE_DIR, DEFAULT_CLASS_LIST } from '../cli/library-defaults';

// `scones stage` end to end, as a user runs it (tools/scones.js in a child process).
const launcher = join(__dirname, '../../../../tools/scones.js');
const SHARED = join(__dirname, '../../../../../shared/data/cifar-100-python-bicycle-motorcycle.tar.gz');

function scones(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [launcher, 'stage', ...args], { timeout: 60_000, env: { ...process.env, SCONES_CIFAR_SOURCE: '', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

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

let root: string;
let archive: string;
let fixture: Buffer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'scones-stage-'));
  fixture = await cifarFixtureArchive({ trainRows: 200, testRows: 100 });
  if (existsSync(SHARED)) {
    archive = SHARED;
  } else {
    archive = join(root, 'bicycle-motorcycle.tar.gz');
    await writeFile(archive, await cifarFixtureArchive({ trainRows: 1000, testRows: 200, classes: ['bicycle', 'motorcycle'] }));
  }
}, 60_000);
afterAll(() => rm(root, { recursive: true, force: true }));

describe('scones stage', () => {
  jest.setTimeout(60_000);

  it("spells out the library's defaults", () => {
    expect(DEFAULT_CLASS_LIST).toBe(DEFAULT_CLASSES.join(','));
    expect(DEFAULT_CACHE_DIR).toBe(DEFAULT_CACHE_DIRECTORY);
  });

  it('--out writes data/train, data/test and the manifests, with a JSON summary', async () => {
    const out = join(root, 'out');
    const { code, stdout, stderr } = await scones(['--source', archive, '--out', out, '--json']);
    expect(stderr).not.toContain('error');
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({
      ok: true,
      command: 'stage',
      source: archive,
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
  });

  it('uploads to the embedded S3, idempotently, and never touches the network with --source', async () => {
    const site = await archiveServer(fixture);
    const source = join(root, 'fixture.tar.gz');
    await writeFile(source, fixture);
    const s3Dir = join(root, 's3');
    const env = { SCONES_CIFAR_URL: site.url };
    try {
      const first = await scones(['--source', source, '--s3-dir', s3Dir, '--json'], env);
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({ location: 's3://scones/data/', files: { written: 6, skipped: 0 } });
      const again = await scones(['--source', source, '--s3-dir', s3Dir, '--json'], env);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout).files).toEqual({ written: 0, skipped: 6, removedStale: 0 });
      expect(site.requests()).toBe(0);
    } finally {
      await site.stop();
    }
    const s3 = await startLocalS3({ directory: s3Dir });
    try {
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
      await s3.stop();
    }
  });

  it('downloads into the cache when no source is given, and verifies the MD5', async () => {
    const site = await archiveServer(fixture);
    const cache = join(root, 'cache');
    const md5 = createHash('md5').update(fixture).digest('hex');
    try {
      const ok = await scones(['--out', join(root, 'downloaded'), '--cache-dir', cache, '--classes', 'bus,train', '--json'], { SCONES_CIFAR_URL: site.url, SCONES_CIFAR_MD5: md5 });
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ source: join(cache, 'cifar-100-python.tar.gz'), train: { images: 4, perClass: { bus: 2, train: 2 } } });
      expect(site.requests()).toBe(1);

      const bad = await scones(['--out', join(root, 'never'), '--cache-dir', join(root, 'cache2')], { SCONES_CIFAR_URL: site.url, SCONES_CIFAR_MD5: '0'.repeat(32) });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`scones stage: error: ChecksumMismatchError: ${site.url}: MD5 of the downloaded file is ${md5}, expected ${'0'.repeat(32)}`);
      expect(await readdir(join(root, 'cache2'))).toEqual([]);
      expect(existsSync(join(root, 'never'))).toBe(false);
    } finally {
      await site.stop();
    }
  });

  it('says how to stage offline when the download cannot connect', async () => {
    // A loopback port nothing listens on any more: the connection is refused at once, no network involved.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const url = `http://127.0.0.1:${port}/cifar-100-python.tar.gz`;
    const { code, stderr } = await scones(['--out', join(root, 'offline'), '--cache-dir', join(root, 'cache3')], { SCONES_CIFAR_URL: url });
    expect(code).toBe(1);
    expect(stderr).toContain(`scones stage: error: DownloadError: GET ${url}: `);
    expect(stderr).toMatch(/ECONNREFUSED.*; to stage without downloading, pass --source <cifar-100-python\.tar\.gz> \(or set SCONES_CIFAR_SOURCE\)/);
  });

  it('fails with one clear line and exit 1 on a bad archive', async () => {
    const notGzip = join(root, 'not.tar.gz');
    await writeFile(notGzip, 'hello');
    const { code, stdout, stderr } = await scones(['--source', notGzip, '--out', join(root, 'bad'), '--json']);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').at(-1)).toBe(`scones stage: error: NotGzipError: ${notGzip}: not a gzip file (starts with 68656c6c; expected 1f8b, a .tar.gz)`);
    expect(JSON.parse(stdout)).toMatchObject({ ok: false, error: { name: 'NotGzipError' } });
  });

  it.each([
    [['--classes', 'bicycle,,bus'], '--classes: class list "bicycle,,bus": empty class name'],
    [['--target', 'aws'], '--bucket is required with --target aws'],
    [['--target', 'aws', '--bucket', 'b', '--out', 'x'], '--out writes to a directory instead of S3; leave out --target aws'],
  ])('exits 2 on a bad command line: %j', async (args, message) => {
    const { code, stderr } = await scones(['--source', archive, ...args]);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});
