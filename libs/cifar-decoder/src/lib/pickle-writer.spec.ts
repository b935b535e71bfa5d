import { createHash } from 'node:crypto';
import { readCifarArchive } from './cifar-archive';
import { CIFAR100_COARSE_LABEL_NAMES, CIFAR100_FINE_LABEL_NAMES } from './cifar100-labels';
import { encodeCifarBatchPickle, encodeCifarMetaPickle } from './pickle-writer';
import { readTarGz } from './tar-gz';
import { REAL_SUBSET } from '../../test/archives';

async function memberBytes(path: string, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await readTarGz(path, {
    onMember: (entry) => (entry === name ? { data: (c) => chunks.push(Buffer.from(c)), end: () => undefined } : undefined),
  });
  return Buffer.concat(chunks);
}

describe('pickle writer', () => {
  jest.setTimeout(60_000);
  it('writes the official meta pickle byte for byte (md5 7973b151... from the data README)', () => {
    const meta = encodeCifarMetaPickle({ fineLabelNames: CIFAR100_FINE_LABEL_NAMES, coarseLabelNames: CIFAR100_COARSE_LABEL_NAMES });
    expect(createHash('md5').update(meta).digest('hex')).toBe('7973b15100ade9c7d40fb424638fde48');
  });

  it('rejects fields of different lengths', () => {
    expect(() => encodeCifarBatchPickle({ batchLabel: 'x', filenames: ['a'], fineLabels: [1, 2], coarseLabels: [0], data: new Uint8Array(3072) })).toThrow(
      'batch fields disagree: 1 filenames, 2 fine labels, 1 coarse labels',
    );
    expect(() => encodeCifarBatchPickle({ batchLabel: 'x', filenames: ['a'], fineLabels: [1], coarseLabels: [0], data: new Uint8Array(3) })).toThrow(
      'data has 3 bytes, expected 1 rows x 3072 = 3072',
    );
  });

  it('re-encodes the real train and test pickles byte for byte', async () => {
    const archive = await readCifarArchive(REAL_SUBSET);
    for (const batch of [archive.train, archive.test]) {
      const original = await memberBytes(REAL_SUBSET, batch.source);
      const rewritten = encodeCifarBatchPickle({
        batchLabel: batch.batchLabel,
        filenames: Array.from({ length: batch.rows }, (_, i) => batch.filename(i)),
        fineLabels: batch.fineLabels,
        coarseLabels: batch.coarseLabels,
        data: batch.data,
      });
      expect(rewritten.equals(original)).toBe(true);
    }
  });
});
