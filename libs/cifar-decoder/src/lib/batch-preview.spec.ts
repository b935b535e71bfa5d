import { BatchPreviewer, previewAgrees } from './batch-preview';
import { decodeCifarBatch } from './cifar-batch';
import { ChunkedBytes } from './chunked-bytes';
import { fixtureRow } from './fixture-archive';
import { encodeCifarBatchPickle } from './pickle-writer';

function officialBatch(rows: number): Buffer {
  const filenames = Array.from({ length: rows }, (_, i) => fixtureRow('train', i).filename);
  const fine = Array.from({ length: rows }, (_, i) => fixtureRow('train', i).fineLabel);
  const data = Uint8Array.from({ length: rows * 3072 }, (_, i) => i % 253);
  return encodeCifarBatchPickle({ batchLabel: 'training batch 1 of 1', filenames, fineLabels: fine, coarseLabels: fine.map(() => 0), data });
}

/** Feeds `bytes` in chunks of `size`, asking for a preview after each; returns it and how far it took. */
function feed(bytes: Buffer, size: number) {
  const member = new ChunkedBytes();
  const previewer = new BatchPreviewer(member, bytes.length, 'train');
  for (let at = 0; at < bytes.length; at += size) {
    member.append(bytes.subarray(at, Math.min(bytes.length, at + size)));
    const preview = previewer.update();
    if (preview !== undefined) return { preview, filled: member.length, member };
  }
  return { preview: undefined, filled: member.length, member };
}

describe('BatchPreviewer', () => {
  it('reads labels before the pixels arrive and confirms where the pixels start', () => {
    const bytes = officialBatch(1200); // more than 256 memo entries: LONG_BINPUT after the data key
    const dataOffset = bytes.length - 4 - 1200 * 3072;
    const { preview, filled, member } = feed(bytes, 64 * 1024);
    expect(preview).toBeTruthy();
    expect(filled).toBeLessThan(dataOffset + 64 * 1024 + 1); // ready with the first chunk that holds the data header
    expect(preview!.rows).toBe(1200);
    expect(preview!.dataOffset).toBe(dataOffset);
    expect(preview!.fineLabels.slice(0, 3)).toEqual([0, 1, 2]);
    expect(preview!.filename(101)).toBe(fixtureRow('train', 101).filename);
    while (member.length < bytes.length) member.append(bytes.subarray(member.length, member.length + 64 * 1024));
    expect(previewAgrees(preview!, decodeCifarBatch(member, 'train'))).toBe(true);
  });

  it('finds the data key across chunk boundaries of any size', () => {
    const bytes = officialBatch(40);
    for (const size of [1, 7, 100, 4096]) expect(feed(bytes, size).preview?.rows).toBe(40);
  });

  it('gives no preview for another layout', () => {
    // A `data` key not followed by a numpy array: keeps looking, never previews.
    const other = Buffer.concat([Buffer.from([0x80, 2, 0x7d, 0x71, 1, 0x28]), Buffer.from('U\x04dataq\x02K\x01u.', 'latin1')]);
    expect(feed(other, 5).preview).toBeUndefined();
    // Far past any label list without the key: gives up.
    const member = ChunkedBytes.of(new Uint8Array(33 * 1024 * 1024));
    expect(new BatchPreviewer(member, member.length, 'x').update()).toBeNull();
  });

  it('disagrees when the full decode differs', () => {
    const bytes = officialBatch(10);
    const preview = new BatchPreviewer(ChunkedBytes.of(bytes), bytes.length, 'train').update()!;
    const batch = decodeCifarBatch(bytes, 'train');
    expect(previewAgrees(preview, batch)).toBe(true);
    expect(previewAgrees({ ...preview, fineLabels: [...preview.fineLabels.slice(0, 9), 99] }, batch)).toBe(false);
    expect(previewAgrees({ ...preview, dataOffset: preview.dataOffset + 1 }, batch)).toBe(false);
  });
});
