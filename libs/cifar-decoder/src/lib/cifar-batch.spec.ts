import { NotCifarBatchError, ShapeMismatchError } from '../errors';
import { checkLabelsAgainstMeta, decodeCifarBatch, decodeCifarMeta } from './cifar-batch';
import { ChunkedBytes } from './chunked-bytes';
import { CIFAR100_COARSE_LABEL_NAMES, CIFAR100_FINE_LABEL_NAMES } from './cifar100-labels';
import { cifarBatchPickleParts, encodeCifarBatchPickle, encodeCifarMetaPickle } from './pickle-writer';

const rows = 3;
const data = new Uint8Array(rows * 3072).map((_, i) => (i * 7) % 256);
const batchBytes = () =>
  encodeCifarBatchPickle({ batchLabel: 'training batch 1 of 1', filenames: ['a.png', 'b.png', 'c.png'], fineLabels: [8, 48, 8], coarseLabels: [18, 18, 18], data });

describe('decodeCifarBatch', () => {
  it('decodes filenames, labels and a rows x 3072 view of the pixels', () => {
    const bytes = batchBytes();
    const batch = decodeCifarBatch(bytes, 'cifar-100-python/train');
    expect(batch).toMatchObject({ source: 'cifar-100-python/train', batchLabel: 'training batch 1 of 1', rows: 3, fineLabels: [8, 48, 8], coarseLabels: [18, 18, 18] });
    expect([0, 1, 2].map((i) => batch.filename(i))).toEqual(['a.png', 'b.png', 'c.png']);
    expect(batch.data).toBeInstanceOf(Uint8Array);
    expect(batch.data.length).toBe(rows * 3072);
    expect(batch.data.buffer).toBe(bytes.buffer); // a view, not a copy
    expect(Buffer.from(batch.data).equals(Buffer.from(data))).toBe(true);
  });

  it('decodes from decompressed chunks without joining them', () => {
    const bytes = batchBytes();
    const chunks = new ChunkedBytes();
    for (let at = 0; at < bytes.length; at += 1000) chunks.append(bytes.subarray(at, at + 1000));
    const batch = decodeCifarBatch(chunks, 'train');
    expect(batch.filename(2)).toBe('c.png');
    expect(batch.dataOffset).toBe(bytes.length - 4 - rows * 3072);
    for (let row = 0; row < rows; row++) expect(Buffer.from(batch.pixels(row))).toEqual(Buffer.from(data.subarray(row * 3072, (row + 1) * 3072)));
    expect(Buffer.from(batch.data)).toEqual(Buffer.from(data)); // joined on request
    expect(batch.data).toBe(batch.data); // once
    expect(() => batch.pixels(3)).toThrow('train: row 3 is outside 0..2');
  });

  it('says when the pickle is not a CIFAR batch', () => {
    const meta = encodeCifarMetaPickle({ fineLabelNames: ['a'], coarseLabelNames: ['b'] });
    expect(() => decodeCifarBatch(meta, 'cifar-100-python/train')).toThrow(NotCifarBatchError);
    expect(() => decodeCifarBatch(meta, 'cifar-100-python/train')).toThrow(
      'cifar-100-python/train: not a CIFAR-100 batch: missing "filenames", "fine_labels", "coarse_labels", "data" (keys: "fine_label_names", "coarse_label_names")',
    );
    // A list instead of a dictionary: PROTO 2, EMPTY_LIST, STOP
    expect(() => decodeCifarBatch(new Uint8Array([0x80, 2, 0x5d, 0x2e]), 'x')).toThrow('x: not a CIFAR-100 batch: the pickle holds a sequence of 0, expected a dictionary');
  });

  it('shows the keys of a Python 3 pickle as text', () => {
    // pickle.dumps({b'filenames': [b'a.png'], b'fine_labels': [8], b'other': 1}, protocol=4) by CPython 3.11
    const bytes = Buffer.from('80049539000000000000007d9428430966696c656e616d6573945d944305612e706e679461430b66696e655f6c6162656c73945d944b086143056f74686572944b01752e', 'hex');
    expect(() => decodeCifarBatch(bytes, 'cifar-100-python/train')).toThrow(
      new NotCifarBatchError('cifar-100-python/train: not a CIFAR-100 batch: missing "coarse_labels", "data" (keys: "filenames", "fine_labels", "other")'),
    );
  });

  it('names arrays whose lengths disagree with the data rows', () => {
    const parts = cifarBatchPickleParts({ batchLabel: 'b', filenames: ['a.png', 'b.png'], fineLabels: [1, 2], coarseLabels: [0, 0] });
    // Patch the shape and BINSTRING to three rows while the lists keep two.
    const head = Buffer.from(parts.head);
    const shapeAt = head.indexOf(Buffer.from([0x4b, 0x01, 0x4b, 0x02, 0x4d, 0x00, 0x0c]));
    head[shapeAt + 3] = 3;
    head.writeUInt32LE(3 * 3072, head.length - 4);
    const bytes = Buffer.concat([head, new Uint8Array(3 * 3072), parts.tail]);
    expect(() => decodeCifarBatch(bytes, 'test')).toThrow(ShapeMismatchError);
    expect(() => decodeCifarBatch(bytes, 'test')).toThrow('test: "filenames" has 2 entries but "data" has 3 rows');
  });

  it('names a data array that is not rows x 3072', () => {
    const parts = cifarBatchPickleParts({ batchLabel: 'b', filenames: ['a.png'], fineLabels: [1], coarseLabels: [0] });
    const head = Buffer.from(parts.head);
    const widthAt = head.indexOf(Buffer.from([0x4d, 0x00, 0x0c]));
    head.writeUInt16LE(1024, widthAt + 1); // (1, 1024)
    head.writeUInt32LE(1024, head.length - 4);
    const bytes = Buffer.concat([head, new Uint8Array(1024), parts.tail]);
    expect(() => decodeCifarBatch(bytes, 'test')).toThrow(new ShapeMismatchError('test: "data" has shape (1, 1024), expected (rows, 3072)'));
  });
});

describe('decodeCifarMeta', () => {
  it('decodes the label names', () => {
    const meta = decodeCifarMeta(encodeCifarMetaPickle({ fineLabelNames: CIFAR100_FINE_LABEL_NAMES, coarseLabelNames: CIFAR100_COARSE_LABEL_NAMES }), 'meta');
    expect(meta.fineLabelNames).toHaveLength(100);
    expect(meta.fineLabelNames[8]).toBe('bicycle');
    expect(meta.fineLabelNames[48]).toBe('motorcycle');
    expect(meta.coarseLabelNames[18]).toBe('vehicles_1');
  });

  it('says when a batch is given instead of meta', () => {
    expect(() => decodeCifarMeta(batchBytes(), 'cifar-100-python/meta')).toThrow(/^cifar-100-python\/meta: not a CIFAR-100 meta: missing "fine_label_names", "coarse_label_names"/);
  });

  it('checks batch labels against the number of names', () => {
    const batch = decodeCifarBatch(batchBytes(), 'train');
    expect(() => checkLabelsAgainstMeta(batch, { fineLabelNames: ['x'], coarseLabelNames: [] })).toThrow('train: row 0 has fine label 8 but meta names only 1 classes');
    expect(() => checkLabelsAgainstMeta(batch, { fineLabelNames: [...CIFAR100_FINE_LABEL_NAMES], coarseLabelNames: [] })).not.toThrow();
  });
});
