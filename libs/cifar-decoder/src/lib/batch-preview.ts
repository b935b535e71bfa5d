import type { ChunkedBytes } from './chunked-bytes';
import { ROW_BYTES, type CifarBatch } from './cifar-batch';
import { PyBytes, unpickle } from './pickle';

/**
 * Reads a train/test batch's filenames and labels while its pixels are still being
 * decompressed, so selected rows can be encoded as soon as their bytes arrive.
 *
 * In the official files the dictionary holds `filenames`, `batch_label`, `fine_labels`,
 * `coarse_labels`, then `data` — a 150 MB string that ends 4 bytes before the member does. The
 * bytes before the `data` key, closed with SETITEMS + STOP, are a complete pickle of the rest of
 * the dictionary, which pickleparser decodes. Anything that does not fit this layout gives no
 * preview (the caller waits for the whole member), and every preview is checked against the
 * full decode of the member once it is complete ({@link previewAgrees}).
 */

export interface BatchPreview {
  rows: number;
  /** Offset of row 0's pixels in the member. */
  dataOffset: number;
  fineLabels: readonly number[];
  filename(row: number): string;
}

const DATA_KEY = Buffer.from('U\x04data', 'latin1');
const RECONSTRUCT = ['cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy._core.multiarray\n_reconstruct\n'].map((s) => Buffer.from(s, 'latin1'));
const SETITEMS_STOP = Buffer.from('u.', 'latin1');
const BINSTRING = 0x54;
/** Bytes after the pixel data: TUPLE, BUILD (the array), SETITEMS (the dict), STOP. */
const TRAILER = 4;
/** The labels of 50 000 rows take ~1.2 MB; far beyond that the layout is not the official one. */
const GIVE_UP_AFTER = 32 * 1024 * 1024;

type Step = { state: 'searching'; from: number } | { state: 'decoded'; preview: BatchPreview } | { state: 'done'; preview: BatchPreview | undefined };

export class BatchPreviewer {
  private step: Step = { state: 'searching', from: 0 };

  constructor(
    private readonly member: ChunkedBytes,
    /** The member's full size (from its tar header). */
    private readonly size: number,
    private readonly what: string,
  ) {}

  /**
   * Call after more of the member has arrived. Returns the preview once the
   * labels are decoded and the pixel data's position is confirmed; `null` once it is clear there
   * will be none; `undefined` while more bytes are needed.
   */
  update(): BatchPreview | null | undefined {
    const filled = this.member.length;
    if (this.step.state === 'done') return this.step.preview ?? null;
    if (this.step.state === 'searching') {
      const found = this.findDataKey(filled);
      if (found === undefined) return filled > GIVE_UP_AFTER ? this.finish(undefined) : undefined;
      if (found < 0) return this.finish(undefined);
      const preview = this.decodePrefix(found);
      if (!preview) return this.finish(undefined);
      this.step = { state: 'decoded', preview };
    }
    const { preview } = this.step;
    // The BINSTRING opcode and its length sit just before the pixels.
    if (filled < preview.dataOffset) return undefined;
    const header = Buffer.from(this.member.range(preview.dataOffset - 5, preview.dataOffset));
    const ok = header[0] === BINSTRING && header.readUInt32LE(1) === preview.rows * ROW_BYTES;
    return this.finish(ok ? preview : undefined);
  }

  private finish(preview: BatchPreview | undefined): BatchPreview | null {
    this.step = { state: 'done', preview };
    return preview ?? null;
  }

  /** Position of the `data` key followed by numpy's _reconstruct; undefined: need more; -1: not there. */
  private findDataKey(filled: number): number | undefined {
    if (this.step.state !== 'searching') return -1;
    // Only the bytes not searched yet (plus an overlap for a key across the boundary) are joined.
    const base = this.step.from;
    const window = this.member.range(base, filled);
    const bytes = Buffer.from(window.buffer, window.byteOffset, window.byteLength);
    for (let at = bytes.indexOf(DATA_KEY); at >= 0; at = bytes.indexOf(DATA_KEY, at + 1)) {
      const memo = bytes[at + DATA_KEY.length];
      const after = at + DATA_KEY.length + (memo === 0x71 ? 2 : memo === 0x72 ? 5 : 0);
      if (after + RECONSTRUCT[1].length > bytes.length) {
        this.step = { state: 'searching', from: base + at };
        return undefined;
      }
      if (after > at + DATA_KEY.length && RECONSTRUCT.some((r) => bytes.subarray(after, after + r.length).equals(r))) return base + at;
    }
    this.step = { state: 'searching', from: Math.max(0, filled - DATA_KEY.length - RECONSTRUCT[1].length) };
    return undefined;
  }

  private decodePrefix(dataKey: number): BatchPreview | undefined {
    let dict: Record<string, unknown>;
    try {
      dict = unpickle(Buffer.concat([this.member.range(0, dataKey), SETITEMS_STOP]), `${this.what} (preview)`) as Record<string, unknown>;
    } catch {
      return undefined; // not the official layout: the full decode will say what is wrong
    }
    const filenames = dict?.['filenames'];
    const fineLabels = dict?.['fine_labels'];
    if (!Array.isArray(filenames) || !Array.isArray(fineLabels) || filenames.length !== fineLabels.length) return undefined;
    if (!fineLabels.every((l) => Number.isInteger(l) && l >= 0) || !filenames.every((f) => f instanceof PyBytes || typeof f === 'string')) return undefined;
    const rows = filenames.length;
    const dataOffset = this.size - TRAILER - rows * ROW_BYTES;
    if (dataOffset <= dataKey) return undefined;
    return { rows, dataOffset, fineLabels: fineLabels as number[], filename: (row) => String(filenames[row]) };
  }
}

/** True when the full decode of the member says the same as the preview did (rows, labels, pixel offset). */
export function previewAgrees(preview: BatchPreview, batch: CifarBatch): boolean {
  if (batch.rows !== preview.rows || batch.dataOffset !== preview.dataOffset) return false;
  for (let i = 0; i < batch.rows; i++) if (batch.fineLabels[i] !== preview.fineLabels[i]) return false;
  return true;
}
