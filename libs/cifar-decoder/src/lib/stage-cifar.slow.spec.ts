import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { parseLst } from '@scones/payload-schemas';
import { directorySink } from './directory-sink';
import { fixturePixels, fixtureRow, writeCifarFixtureArchive } from './fixture-archive';
import { stageCifar } from './stage-cifar';
import { scratch } from '../../test/archives';

// The full-size layout: 50 000 + 10 000 rows (a ~170 MB archive), as the official file.
describe('stageCifar on a full-size archive', () => {
  jest.setTimeout(300_000);
  let tmp: { dir: string; remove(): Promise<void> };
  let archive: string;

  beforeAll(async () => {
    tmp = await scratch('stage-full-');
    archive = join(tmp.dir, 'cifar-100-python.tar.gz');
    await writeCifarFixtureArchive(archive, { trainRows: 50_000, testRows: 10_000 });
  });
  afterAll(() => tmp.remove());

  it('stages 500 + 100 images per class with the right labels and pixels', async () => {
    const out = join(tmp.dir, 'out');
    const summary = await stageCifar({ source: archive, sink: directorySink(out), classes: ['motorcycle', 'bicycle', 'worm'] });
    expect(summary.speculation).toBe('confirmed');
    expect(summary.train.perClass).toEqual({ motorcycle: 500, bicycle: 500, worm: 500 });
    expect(summary.test.perClass).toEqual({ motorcycle: 100, bicycle: 100, worm: 100 });
    const rows = parseLst(await readFile(join(out, 'data/train.lst'), 'utf8'));
    expect(rows).toHaveLength(1500);
    expect((await readdir(join(out, 'data/train'))).length).toBe(1500);
    for (const { row, label, path } of [rows[0], rows[777], rows[1499]]) {
      const expected = fixtureRow('train', row);
      expect(path).toBe(expected.filename);
      expect(label).toBe({ 48: 0, 8: 1, 99: 2 }[expected.fineLabel]);
      const png = PNG.sync.read(await readFile(join(out, 'data/train', path)));
      const planar = fixturePixels('train', row);
      for (const i of [0, 511, 1023]) expect([png.data[i * 4], png.data[i * 4 + 1], png.data[i * 4 + 2]]).toEqual([planar[i], planar[1024 + i], planar[2048 + i]]);
    }
  });
});
