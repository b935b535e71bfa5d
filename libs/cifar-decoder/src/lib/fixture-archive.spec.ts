import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { readCifarArchive } from './cifar-archive';
import { cifarFixtureArchive, fixturePixels, fixtureRow, writeCifarFixtureArchive } from './fixture-archive';
import { readWithPython, scratch } from '../../test/archives';

async function tarHeaders(gz: Buffer): Promise<Array<{ name: string; type?: string | null; size?: number; uname?: string; mode?: number }>> {
  const headers: Array<{ name: string; type?: string | null; size?: number; uname?: string; mode?: number }> = [];
  const extract = tarExtract();
  extract.on('entry', (header, stream, next) => {
    headers.push({ name: header.name, type: header.type, size: header.size, uname: header.uname, mode: header.mode });
    stream.on('end', () => next(undefined));
    stream.resume();
  });
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', () => resolve());
    extract.on('error', reject);
    (extract as unknown as NodeJS.WritableStream).end(gunzipSync(gz));
  });
  return headers;
}

describe('CIFAR fixture archives', () => {
  jest.setTimeout(60_000);
  it('have the official member order and tar headers', async () => {
    const headers = await tarHeaders(await cifarFixtureArchive({ trainRows: 20, testRows: 5 }));
    expect(headers.map((h) => [h.name, h.type])).toEqual([
      ['cifar-100-python/', 'directory'],
      ['cifar-100-python/file.txt~', 'file'],
      ['cifar-100-python/train', 'file'],
      ['cifar-100-python/test', 'file'],
      ['cifar-100-python/meta', 'file'],
    ]);
    expect(headers[1].size).toBe(0);
    expect(headers[4].size).toBe(1473); // the official meta pickle
    expect(headers.every((h) => h.uname === 'kriz')).toBe(true);
  });

  it('cycle through the chosen classes and have deterministic pixels', async () => {
    const options = { trainRows: 6, testRows: 4, classes: ['bicycle', 'motorcycle', 'bus'] };
    const { train, test } = await readCifarArchive(Readable.from([await cifarFixtureArchive(options)]));
    expect(train.fineLabels).toEqual([8, 48, 13, 8, 48, 13]);
    expect(train.coarseLabels).toEqual([18, 18, 18, 18, 18, 18]);
    expect(test.filename(3)).toBe('bicycle_s_000003.png');
    expect(fixtureRow('test', 3, options)).toEqual({ filename: 'bicycle_s_000003.png', fineLabel: 8, coarseLabel: 18 });
    expect(Buffer.from(train.data.subarray(5 * 3072))).toEqual(Buffer.from(fixturePixels('train', 5)));
    expect(Buffer.from(fixturePixels('train', 5))).not.toEqual(Buffer.from(fixturePixels('test', 5)));
  });

  it('compress like real CIFAR images (about 0.9 of the raw size)', async () => {
    const gz = await cifarFixtureArchive({ trainRows: 500, testRows: 100 });
    const ratio = gz.length / gunzipSync(gz).length;
    expect(ratio).toBeGreaterThan(0.85);
    expect(ratio).toBeLessThan(0.97);
  });

  it('are read by Python pickle as CIFAR batches', async () => {
    const dir = await scratch('fixture-');
    try {
      const path = join(dir.dir, 'f.tar.gz');
      await writeCifarFixtureArchive(path, { trainRows: 12, testRows: 3 });
      const python = await readWithPython(path, 'train', [11]);
      if (!python) return console.warn('python3 not installed: fixture not cross-checked with Python');
      expect(python.rows).toBe(12);
      expect(python.filenames[11]).toBe(fixtureRow('train', 11).filename);
      expect(python.fineLabels[11]).toBe(fixtureRow('train', 11).fineLabel);
      expect(python.pixels['11']).toBe(Buffer.from(fixturePixels('train', 11)).toString('hex'));
      expect(python.fineLabelNames[48]).toBe('motorcycle');
    } finally {
      await dir.remove();
    }
  });

  it('refuse an unknown class', async () => {
    await expect(cifarFixtureArchive({ classes: ['unicycle'] })).rejects.toThrow('fixture: unknown class "unicycle"');
  });
});
