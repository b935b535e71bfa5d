import { Readable } from 'node:stream';
import { CorruptArchiveError, MissingMemberError, NotCifarBatchError } from '../errors';
import { cifarMemberOf, readCifarArchive } from './cifar-archive';
import { cifarFixtureArchive, fixturePixels } from './fixture-archive';
import { encodeCifarMetaPickle } from './pickle-writer';
import { REAL_SUBSET, readWithPython } from '../../test/archives';

describe('readCifarArchive', () => {
  jest.setTimeout(60_000);

  it('decodes the bicycle/motorcycle archive: 1000 + 200 rows, 500/500 and 100/100', async () => {
    const { train, test, meta } = await readCifarArchive(REAL_SUBSET);
    expect(train.rows).toBe(1000);
    expect(test.rows).toBe(200);
    expect(train.data.length).toBe(1000 * 3072);
    expect(meta.fineLabelNames.indexOf('bicycle')).toBe(8);
    expect(meta.fineLabelNames.indexOf('motorcycle')).toBe(48);
    const count = (labels: readonly number[], l: number) => labels.filter((x) => x === l).length;
    expect([count(train.fineLabels, 8), count(train.fineLabels, 48)]).toEqual([500, 500]);
    expect([count(test.fineLabels, 8), count(test.fineLabels, 48)]).toEqual([100, 100]);
    expect(train.batchLabel).toBe('training batch 1 of 1');
    expect(train.filename(0)).toBe('bike_s_000682.png');
    const names = Array.from({ length: train.rows }, (_, i) => train.filename(i));
    expect(names).toContain('bicycle_s_000017.png');
  });

  it('gives the same filenames, labels and pixels as Python pickle', async () => {
    const { train, test } = await readCifarArchive(REAL_SUBSET);
    for (const [member, batch, rows] of [
      ['train', train, [0, 1, 517, 999]],
      ['test', test, [0, 199]],
    ] as const) {
      const python = await readWithPython(REAL_SUBSET, member, [...rows]);
      // CI installs Debian's python3 (tools/ci/install-system-deps.sh): the comparison always runs there.
      if (!python) throw new Error('python3 is needed to compare with pickle (bash tools/ci/install-system-deps.sh)');
      expect(python.rows).toBe(batch.rows);
      expect(python.fineLabels).toEqual(batch.fineLabels);
      expect(python.filenames).toEqual(Array.from({ length: batch.rows }, (_, i) => batch.filename(i)));
      for (const r of rows) expect(Buffer.from(batch.data.subarray(r * 3072, (r + 1) * 3072)).toString('hex')).toBe(python.pixels[String(r)]);
    }
  });

  it('reads from a stream and on this thread too', async () => {
    const bytes = await cifarFixtureArchive({ trainRows: 30, testRows: 10 });
    const viaStream = await readCifarArchive(Readable.from([bytes]));
    expect(viaStream.train.rows).toBe(30);
    expect(Buffer.from(viaStream.test.data.subarray(3072, 6144))).toEqual(Buffer.from(fixturePixels('test', 1)));
  });

  it('names a missing member', async () => {
    const bytes = await cifarFixtureArchive({ trainRows: 10, testRows: 10, members: ['train', 'meta'] });
    const attempt = readCifarArchive(Readable.from([bytes]));
    await expect(attempt).rejects.toThrow(MissingMemberError);
    await expect(readCifarArchive(Readable.from([bytes]))).rejects.toThrow(
      'archive: no cifar-100-python/test member (files in the archive: cifar-100-python/file.txt~, cifar-100-python/train, cifar-100-python/meta); is this cifar-100-python.tar.gz?',
    );
  });

  it('says when a member is not a CIFAR batch', async () => {
    const meta = encodeCifarMetaPickle({ fineLabelNames: ['a'], coarseLabelNames: ['b'] });
    const bytes = await cifarFixtureArchive({ trainRows: 10, testRows: 10, replace: { train: meta } });
    await expect(readCifarArchive(Readable.from([bytes]))).rejects.toThrow(NotCifarBatchError);
  });

  it('rejects an archive with a member twice', async () => {
    const bytes = await cifarFixtureArchive({ trainRows: 10, testRows: 10, members: ['train', 'test', 'meta', 'meta'] });
    await expect(readCifarArchive(Readable.from([bytes]))).rejects.toThrow(new CorruptArchiveError('archive: cifar-100-python/meta appears twice'));
  });

  it('recognises member names', () => {
    expect(cifarMemberOf('cifar-100-python/train')).toBe('train');
    expect(cifarMemberOf('./cifar-100-python/meta')).toBe('meta');
    expect(cifarMemberOf('cifar-100-python/file.txt~')).toBeUndefined();
    expect(cifarMemberOf('other/train')).toBeUndefined();
  });
});
