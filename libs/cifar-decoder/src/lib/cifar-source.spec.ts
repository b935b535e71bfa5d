import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ChecksumMismatchError, DownloadError } from '../errors';
import { readCifarArchive } from './cifar-archive';
import { BUNDLED_SUBSET, bundledSubsetPath, describeCifarSource, obtainCifarSource, resolveCifarSource } from './cifar-source';
import { REAL_SUBSET, scratch } from '../../test/archives';

describe('the bundled subset', () => {
  it('is in the repository, with the documented size, MD5 and rows', async () => {
    expect(bundledSubsetPath()).toBe(REAL_SUBSET);
    const bytes = await readFile(REAL_SUBSET);
    expect(bytes.length).toBe(BUNDLED_SUBSET.bytes);
    expect(createHash('md5').update(bytes).digest('hex')).toBe(BUNDLED_SUBSET.md5);
    const { train, test, meta } = await readCifarArchive(REAL_SUBSET);
    expect([train.rows, test.rows]).toEqual([1000, 200]);
    expect(new Set(train.fineLabels.map((f) => meta.fineLabelNames[f]))).toEqual(new Set(BUNDLED_SUBSET.classes));
  });

  it('is found under SCONES_ROOT (where the CLI bundle runs from)', () => {
    const saved = { root: process.env.SCONES_ROOT, cwd: process.cwd() };
    try {
      process.env.SCONES_ROOT = join(REAL_SUBSET, '../../../..');
      expect(bundledSubsetPath()).toBe(REAL_SUBSET);
    } finally {
      if (saved.root === undefined) delete process.env.SCONES_ROOT;
      else process.env.SCONES_ROOT = saved.root;
    }
  });
});

describe('resolveCifarSource', () => {
  it('uses the bundled subset for bicycle and motorcycle, in any order', () => {
    expect(resolveCifarSource()).toEqual({ kind: 'bundled', path: REAL_SUBSET });
    expect(resolveCifarSource({ classes: ['motorcycle', 'bicycle'] })).toEqual({ kind: 'bundled', path: REAL_SUBSET });
  });

  it('downloads for other classes, when asked, or when the subset is not installed', () => {
    expect(resolveCifarSource({ classes: ['bicycle', 'bus'] })).toEqual({ kind: 'download', reason: 'classes' });
    expect(resolveCifarSource({ download: true })).toEqual({ kind: 'download', reason: 'asked' });
    expect(resolveCifarSource({ bundledArchive: null })).toEqual({ kind: 'download', reason: 'no-bundle' });
  });

  it('lets a given file win over everything', () => {
    for (const options of [{}, { download: true }, { classes: ['apple', 'bus'] }]) {
      expect(resolveCifarSource({ ...options, source: '/data/cifar.tar.gz' })).toEqual({ kind: 'file', path: '/data/cifar.tar.gz' });
    }
  });

  it('describes each source in one line', () => {
    expect(describeCifarSource({ kind: 'file', path: '/d/c.tar.gz' })).toBe('given file /d/c.tar.gz');
    expect(describeCifarSource({ kind: 'bundled', path: '/r/b.tar.gz' })).toBe(
      'bundled subset /r/b.tar.gz (the real CIFAR-100 bicycle and motorcycle rows, shipped in the repository; no download)',
    );
    expect(describeCifarSource({ kind: 'download', reason: 'classes' })).toBe(
      'downloaded archive: the full CIFAR-100 (161 MB, md5-checked, cached) because the bundled subset holds only bicycle and motorcycle',
    );
    expect(describeCifarSource({ kind: 'download', reason: 'asked' })).toMatch(/because asked for$/);
  });
});

describe('obtainCifarSource', () => {
  jest.setTimeout(30_000);

  it('checks the bundled subset and never deletes it', async () => {
    const tmp = await scratch('source-');
    try {
      expect(await obtainCifarSource({ kind: 'bundled', path: REAL_SUBSET })).toMatchObject({ path: REAL_SUBSET, downloaded: false });
      const damaged = join(tmp.dir, BUNDLED_SUBSET.fileName);
      await copyFile(REAL_SUBSET, damaged);
      const bytes = await readFile(damaged);
      bytes[1000] ^= 1;
      await writeFile(damaged, bytes);
      const md5 = createHash('md5').update(bytes).digest('hex');
      await expect(obtainCifarSource({ kind: 'bundled', path: damaged })).rejects.toThrow(
        new ChecksumMismatchError(
          `${damaged}: MD5 of the bundled subset is ${md5}, expected ${BUNDLED_SUBSET.md5} (a damaged checkout, or a Git LFS pointer?); restore it from the repository, or stage from another archive`,
        ),
      );
      expect(existsSync(damaged)).toBe(true);
    } finally {
      await tmp.remove();
    }
  });

  it('hands a given file over as it is, and downloads the full archive into the cache', async () => {
    const tmp = await scratch('source-');
    const body = Buffer.from('an archive');
    const server = createServer((_req, res) => res.writeHead(200, { 'Content-Length': body.length }).end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      expect(await obtainCifarSource({ kind: 'file', path: '/nowhere.tar.gz' })).toEqual({ source: { kind: 'file', path: '/nowhere.tar.gz' }, path: '/nowhere.tar.gz', downloaded: false });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cifar-100-python.tar.gz`;
      const md5 = createHash('md5').update(body).digest('hex');
      const got = await obtainCifarSource({ kind: 'download', reason: 'asked' }, { url, md5, cacheDirectory: tmp.dir });
      expect(got).toMatchObject({ path: join(tmp.dir, 'cifar-100-python.tar.gz'), downloaded: true });
      expect(await readFile(got.path)).toEqual(body);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await tmp.remove();
    }
  });

  it('names a download that cannot connect', async () => {
    const tmp = await scratch('source-');
    try {
      await expect(obtainCifarSource({ kind: 'download', reason: 'classes' }, { url: 'http://127.0.0.1:9/x.tar.gz', cacheDirectory: tmp.dir })).rejects.toThrow(DownloadError);
    } finally {
      await tmp.remove();
    }
  });
});
