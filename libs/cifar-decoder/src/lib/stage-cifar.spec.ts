import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PNG } from 'pngjs';
import { parseLst } from '@scones/payload-schemas';
import { EmptyClassError, MissingMemberError, NotCifarBatchError, ShapeMismatchError, StageOutputError, TruncatedArchiveError, UnknownClassError } from '../errors';
import { readCifarArchive } from './cifar-archive';
import { CIFAR100_FINE_LABEL_NAMES } from './cifar100-labels';
import { directorySink } from './directory-sink';
import { cifarFixtureArchive, fixturePixels, fixtureRow, type CifarFixtureOptions } from './fixture-archive';
import { encodeCifarBatchPickle } from './pickle-writer';
import { stageCifar } from './stage-cifar';
import { REAL_SUBSET, scratch, wrongShapeTrainPickle } from '../../test/archives';

/** Every file under `dir` with its bytes, by relative path. */
async function tree(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath ?? entry.path, entry.name);
      files.set(path.slice(dir.length + 1), await readFile(path));
    }
  }
  return files;
}

function planarOf(png: Buffer): Uint8Array {
  const image = PNG.sync.read(png);
  const planar = new Uint8Array(3072);
  for (let i = 0; i < 1024; i++) for (let c = 0; c < 3; c++) planar[c * 1024 + i] = image.data[i * 4 + c];
  return planar;
}

describe('stageCifar to a directory', () => {
  jest.setTimeout(60_000);
  let tmp: { dir: string; remove(): Promise<void> };
  let n = 0;
  const out = () => join(tmp.dir, `out-${++n}`);
  const fixture = async (options: CifarFixtureOptions) => {
    const path = join(tmp.dir, `fixture-${++n}.tar.gz`);
    await writeFile(path, await cifarFixtureArchive(options));
    return path;
  };

  beforeAll(async () => {
    tmp = await scratch('stage-');
  });
  afterAll(() => tmp.remove());

  it('writes data/train/*.png, data/test/*.png and the .lst manifests of the Udacity layout', async () => {
    const dir = out();
    const summary = await stageCifar({ source: REAL_SUBSET, sink: directorySink(dir) });
    expect(summary).toMatchObject({
      location: join(dir, 'data'),
      classes: [
        { name: 'bicycle', label: 0, fineLabel: 8 },
        { name: 'motorcycle', label: 1, fineLabel: 48 },
      ],
      train: { images: 1000, perClass: { bicycle: 500, motorcycle: 500 } },
      test: { images: 200, perClass: { bicycle: 100, motorcycle: 100 } },
      files: { written: 1200, skipped: 0, removedStale: 0 },
      manifests: ['data/train.lst', 'data/test.lst'],
      speculation: 'confirmed',
      passes: 1,
    });
    expect((await readdir(dir)).sort()).toEqual(['data']); // no staging directory left behind
    expect((await readdir(join(dir, 'data'))).sort()).toEqual(['test', 'test.lst', 'train', 'train.lst']);

    const { train, test } = await readCifarArchive(REAL_SUBSET);
    for (const [split, batch, count] of [
      ['train', train, 1000],
      ['test', test, 200],
    ] as const) {
      const rows = parseLst(await readFile(join(dir, `data/${split}.lst`), 'utf8'), `${split}.lst`);
      expect(rows).toHaveLength(count);
      expect((await readdir(join(dir, 'data', split))).length).toBe(count);
      for (const { row, label, path } of rows) {
        expect(path).toBe(batch.filename(row)); // the bare original filename
        expect(label).toBe(batch.fineLabels[row] === 8 ? 0 : 1);
      }
      for (const { row, path } of [rows[0], rows[Math.floor(count / 2)], rows[count - 1]]) {
        const png = await readFile(join(dir, 'data', split, path));
        expect(Buffer.from(planarOf(png))).toEqual(Buffer.from(batch.data.subarray(row * 3072, (row + 1) * 3072)));
      }
    }
    expect(existsSync(join(dir, 'data/train/bicycle_s_000017.png'))).toBe(true);
    expect((await readFile(join(dir, 'data/train.lst'), 'utf8')).split('\n')[0]).toBe('0\t0\tbike_s_000682.png');
  });

  it('produces the same bytes with and without speculation, on a worker thread or not', async () => {
    const dirs = [out(), out(), out()];
    const summaries = [
      await stageCifar({ source: REAL_SUBSET, sink: directorySink(dirs[0]) }),
      await stageCifar({ source: REAL_SUBSET, sink: directorySink(dirs[1]), speculate: false }),
      await stageCifar({ source: REAL_SUBSET, sink: directorySink(dirs[2]), worker: false }),
    ];
    expect(summaries.map((s) => s.speculation)).toEqual(['confirmed', 'off', 'confirmed']);
    const [a, b, c] = await Promise.all(dirs.map(tree));
    expect(a.size).toBe(1202);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [path, bytes] of a) {
      expect(b.get(path)!.equals(bytes)).toBe(true);
      expect(c.get(path)!.equals(bytes)).toBe(true);
    }
  });

  it('redoes the work when meta disagrees with the published label order', async () => {
    // An archive whose meta lists the names in reverse: "bicycle" is fine label 91 there, not 8.
    const names = [...CIFAR100_FINE_LABEL_NAMES].reverse();
    const options = { trainRows: 400, testRows: 100, fineLabelNames: names };
    const dir = out();
    const summary = await stageCifar({ source: await fixture(options), sink: directorySink(dir) });
    expect(summary.speculation).toBe('rejected');
    expect(summary.passes).toBe(2); // pixels of unselected rows were already released: read again
    expect(summary.classes).toEqual([
      { name: 'bicycle', label: 0, fineLabel: 91 },
      { name: 'motorcycle', label: 1, fineLabel: 51 },
    ]);
    expect(summary.train.perClass).toEqual({ bicycle: 4, motorcycle: 4 });
    const expected = Array.from({ length: 400 }, (_, row) => ({ row, ...fixtureRow('train', row, options) }))
      .filter((r) => r.fineLabel === 91 || r.fineLabel === 51)
      .map((r) => ({ row: r.row, label: r.fineLabel === 91 ? 0 : 1, path: r.filename }));
    expect(parseLst(await readFile(join(dir, 'data/train.lst'), 'utf8'))).toEqual(expected);
    // Nothing from the wrong prediction (rows of fine labels 8 and 48) is left.
    expect((await readdir(join(dir, 'data/train'))).sort()).toEqual(expected.map((e) => e.path).sort());
    const first = expected[0];
    expect(Buffer.from(planarOf(await readFile(join(dir, 'data/train', first.path))))).toEqual(Buffer.from(fixturePixels('train', first.row)));
  });

  it('redoes the work in memory when the archive is a stream (nothing was released)', async () => {
    const names = [...CIFAR100_FINE_LABEL_NAMES].reverse();
    const options = { trainRows: 300, testRows: 100, fineLabelNames: names };
    const dir = out();
    const summary = await stageCifar({ source: Readable.from([await cifarFixtureArchive(options)]), sink: directorySink(dir) });
    expect(summary.speculation).toBe('rejected');
    expect(summary.passes).toBe(1);
    expect(summary.train.perClass).toEqual({ bicycle: 3, motorcycle: 3 });
    const files = await readdir(join(dir, 'data/train'));
    expect(files.sort()).toEqual(['bicycle_s_000091.png', 'bicycle_s_000191.png', 'bicycle_s_000291.png', 'motorcycle_s_000051.png', 'motorcycle_s_000151.png', 'motorcycle_s_000251.png']);
  });

  it('handles meta before the batches and any list of classes', async () => {
    const vehicles = ['bicycle', 'bus', 'motorcycle', 'pickup_truck', 'train', 'lawn_mower', 'rocket', 'streetcar', 'tank', 'tractor'];
    const dir = out();
    const summary = await stageCifar({ source: await fixture({ trainRows: 300, testRows: 100, members: ['meta', 'train', 'test'] }), classes: vehicles, sink: directorySink(dir) });
    expect(summary.train.images).toBe(30);
    expect(summary.test.images).toBe(10);
    expect(Object.values(summary.train.perClass)).toEqual(vehicles.map(() => 3));
    const labels = parseLst(await readFile(join(dir, 'data/test.lst'), 'utf8')).map((r) => r.label);
    expect([...new Set(labels)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('replaces an earlier run exactly (files of other classes go)', async () => {
    const dir = out();
    const source = await fixture({ trainRows: 200, testRows: 100 });
    await stageCifar({ source, classes: ['apple', 'bus'], sink: directorySink(dir) });
    const again = await stageCifar({ source, classes: ['bus', 'train'], sink: directorySink(dir) });
    expect(again.files.removedStale).toBe(3); // apple: 2 train + 1 test
    const files = await tree(dir);
    expect([...files.keys()].filter((k) => k.includes('apple'))).toEqual([]);
    expect([...files.keys()].filter((k) => k.endsWith('.png'))).toHaveLength(6);
    expect(parseLst(files.get('data/train.lst')!.toString()).map((r) => r.label)).toEqual([0, 1, 0, 1]);
    expect(await readdir(dir)).toEqual(['data']);
  });

  it.each([
    ['a missing member', { members: ['train', 'meta'] } as CifarFixtureOptions, undefined, MissingMemberError],
    ['a train pickle of the wrong shape', { replace: { train: wrongShapeTrainPickle(100) } } as CifarFixtureOptions, undefined, ShapeMismatchError],
    ['an unknown class', {} as CifarFixtureOptions, ['bicycle', 'unicycle'], UnknownClassError],
    ['a class without rows', { classes: ['bicycle', 'motorcycle'] } as CifarFixtureOptions, ['bicycle', 'apple'], EmptyClassError],
  ])('fails on %s and leaves an earlier set untouched', async (_, options, classes, errorClass) => {
    const dir = out();
    const good = await fixture({ trainRows: 100, testRows: 100 });
    await stageCifar({ source: good, sink: directorySink(dir) });
    const before = await tree(dir);
    const bad = await fixture({ trainRows: 100, testRows: 100, ...options });
    await expect(stageCifar({ source: bad, classes, sink: directorySink(dir) })).rejects.toThrow(errorClass);
    expect(await tree(dir)).toEqual(before); // the same files with the same bytes
    expect(await readdir(dir)).toEqual(['data']);
  });

  it('fails on a truncated archive without writing anything', async () => {
    const dir = out();
    const bytes = await cifarFixtureArchive({ trainRows: 300, testRows: 50 });
    const path = join(tmp.dir, 'cut.tar.gz');
    await writeFile(path, bytes.subarray(0, bytes.length - 5000));
    await expect(stageCifar({ source: path, sink: directorySink(dir) })).rejects.toThrow(TruncatedArchiveError);
    expect(existsSync(dir) ? await readdir(dir) : []).toEqual([]);
  });

  it('refuses a filename that is not a plain file name', async () => {
    const data = new Uint8Array(2 * 3072);
    const train = encodeCifarBatchPickle({ batchLabel: 't', filenames: ['ok.png', '../escape.png'], fineLabels: [8, 8], coarseLabels: [18, 18], data });
    const dir = out();
    const source = await fixture({ testRows: 2, replace: { train } });
    await expect(stageCifar({ source, sink: directorySink(dir) })).rejects.toThrow(
      new NotCifarBatchError('cifar-100-python/train: row 1 has filename "../escape.png", which is not a plain file name'),
    );
    expect(existsSync(join(tmp.dir, 'escape.png'))).toBe(false);
  });

  it('keeps both images when a batch repeats a filename', async () => {
    const data = new Uint8Array(3 * 3072).map((_, i) => i % 256);
    const train = encodeCifarBatchPickle({ batchLabel: 't', filenames: ['a.png', 'b.png', 'a.png'], fineLabels: [8, 48, 8], coarseLabels: [18, 18, 18], data });
    const dir = out();
    const summary = await stageCifar({ source: await fixture({ testRows: 2, replace: { train } }), sink: directorySink(dir) });
    expect(summary.renamedDuplicates).toBe(1);
    expect(await readFile(join(dir, 'data/train.lst'), 'utf8')).toBe('0\t0\ta.png\n1\t1\tb.png\n2\t0\ta_row2.png\n');
  });

  it('stops on abort and removes its staging files', async () => {
    const dir = out();
    const controller = new AbortController();
    const reason = new Error('Ctrl-C');
    const run = stageCifar({
      source: REAL_SUBSET,
      sink: directorySink(dir),
      signal: controller.signal,
      onProgress: ({ images }) => images > 0 && controller.abort(reason),
    });
    await expect(run).rejects.toBe(reason);
    expect(existsSync(dir) ? await readdir(dir) : []).toEqual([]);
  });

  it('puts the previous set back when a rename of the commit fails', async () => {
    const dir = out();
    await stageCifar({ source: await fixture({ trainRows: 100, testRows: 100 }), sink: directorySink(dir) });
    const before = await tree(dir);
    // When the commit starts, a non-empty directory where the old test.lst is to be moved aside
    // makes that (the last) rename fail, after the train and test directories and train.lst were swapped.
    const onProgress = ({ phase }: { phase: string }) => {
      if (phase !== 'commit') return;
      const staging = readdirSync(dir).find((name) => name.startsWith('.scones-stage-'))!;
      mkdirSync(join(dir, staging, 'previous/data-test.lst/blocker'), { recursive: true });
    };
    const source = await fixture({ trainRows: 300, testRows: 100 });
    await expect(stageCifar({ source, classes: ['apple', 'bus'], sink: directorySink(dir), onProgress })).rejects.toThrow(
      new RegExp(`^cannot move the staged files into ${dir}: `),
    );
    expect(await tree(dir)).toEqual(before);
    expect(await readdir(dir)).toEqual(['data']);
  });

  it('names an output directory it cannot write', async () => {
    const blocker = join(tmp.dir, 'a-file');
    await writeFile(blocker, 'x');
    await expect(stageCifar({ source: REAL_SUBSET, sink: directorySink(join(blocker, 'out')) })).rejects.toThrow(StageOutputError);
  });
});
