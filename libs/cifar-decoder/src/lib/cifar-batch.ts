import { NotCifarBatchError, ShapeMismatchError } from '../errors';
import type { ChunkedBytes } from './chunked-bytes';
import { NdArray, Py3Bytes, PyBytes, describe, unpickle } from './pickle';

/** Bytes per CIFAR image row: 32 x 32 pixels, planar (1024 red, 1024 green, 1024 blue). */
export const ROW_BYTES = 3072;

/** A decoded CIFAR-100 `train` or `test` batch. */
export interface CifarBatch {
  /** Member it came from, e.g. `cifar-100-python/train`. */
  source: string;
  /** e.g. `training batch 1 of 1`. */
  batchLabel: string;
  rows: number;
  /**
   * rows x 3072 planar pixels as one array: a view of the pickle bytes, or — when the member was
   * decoded from decompressed chunks — joined once on first access. Prefer {@link pixels}.
   */
  readonly data: Uint8Array;
  /** The 3072 planar bytes of one row (a view; a small copy only across chunk boundaries). */
  pixels(row: number): Uint8Array;
  /** Offset of row 0's pixels in the pickle, when they are a Python 2 str there (the official layout). */
  dataOffset: number | undefined;
  fineLabels: readonly number[];
  coarseLabels: readonly number[];
  /** The original filename of a row (decoded on demand: 50 000 strings are rarely all needed). */
  filename(row: number): string;
}

/** The decoded `meta` member. */
export interface CifarMeta {
  fineLabelNames: string[];
  coarseLabelNames: string[];
}

const BATCH_KEYS = ['filenames', 'fine_labels', 'coarse_labels', 'data'] as const;

function asDict(value: unknown, what: string, expected: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value) || value instanceof PyBytes || value instanceof NdArray) {
    throw new NotCifarBatchError(`${what}: not a CIFAR-100 ${expected}: the pickle holds ${describe(value)}, expected a dictionary`);
  }
  return value as Record<string, unknown>;
}

function requireKeys(dict: Record<string, unknown>, keys: readonly string[], what: string, expected: string): void {
  const missing = keys.filter((k) => !(k in dict));
  if (missing.length) {
    throw new NotCifarBatchError(
      `${what}: not a CIFAR-100 ${expected}: missing ${missing.map((k) => `"${k}"`).join(', ')} (keys: ${Object.keys(dict).map((k) => `"${k}"`).join(', ') || 'none'})`,
    );
  }
}

function text(value: unknown): string | undefined {
  // Python 2 str, or Python 3 bytes (a batch loaded with encoding='bytes' and pickled again).
  if (value instanceof PyBytes || value instanceof Py3Bytes) return value.toString();
  return typeof value === 'string' ? value : undefined;
}

function labelList(value: unknown, key: string, what: string): number[] {
  if (!Array.isArray(value)) throw new NotCifarBatchError(`${what}: "${key}" is ${describe(value)}, expected a list of labels`);
  for (let i = 0; i < value.length; i++) {
    const v = value[i] as unknown;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new NotCifarBatchError(`${what}: "${key}"[${i}] is ${describe(v)}, expected a label >= 0`);
    }
  }
  return value as number[];
}

/** Decodes a `train`/`test` pickle, checking it is a CIFAR-100 batch with consistent shapes. */
export function decodeCifarBatch(bytes: Uint8Array | ChunkedBytes, source: string): CifarBatch {
  const dict = asDict(unpickle(bytes, source), source, 'batch');
  requireKeys(dict, BATCH_KEYS, source, 'batch');
  const array = dict['data'];
  if (!(array instanceof NdArray)) throw new NotCifarBatchError(`${source}: "data" is ${describe(array)}, expected a numpy uint8 array`);
  if (array.shape.length !== 2 || array.shape[1] !== ROW_BYTES) {
    throw new ShapeMismatchError(`${source}: "data" has shape (${array.shape.join(', ')}), expected (rows, ${ROW_BYTES})`);
  }
  const rows = array.shape[0];
  const filenames = dict['filenames'];
  if (!Array.isArray(filenames)) throw new NotCifarBatchError(`${source}: "filenames" is ${describe(filenames)}, expected a list of names`);
  const fineLabels = labelList(dict['fine_labels'], 'fine_labels', source);
  const coarseLabels = labelList(dict['coarse_labels'], 'coarse_labels', source);
  for (const [key, length] of [
    ['filenames', filenames.length],
    ['fine_labels', fineLabels.length],
    ['coarse_labels', coarseLabels.length],
  ] as const) {
    if (length !== rows) throw new ShapeMismatchError(`${source}: "${key}" has ${length} entries but "data" has ${rows} rows`);
  }
  const raw = array.raw;
  return {
    source,
    batchLabel: text(dict['batch_label']) ?? '',
    rows,
    get data() {
      return array.data;
    },
    pixels(row: number): Uint8Array {
      if (!Number.isInteger(row) || row < 0 || row >= rows) throw new RangeError(`${source}: row ${row} is outside 0..${rows - 1}`);
      if (raw instanceof PyBytes) return raw.range(row * ROW_BYTES, (row + 1) * ROW_BYTES);
      return raw.subarray(row * ROW_BYTES, (row + 1) * ROW_BYTES);
    },
    dataOffset: raw instanceof PyBytes ? raw.start : undefined,
    fineLabels,
    coarseLabels,
    filename(row: number): string {
      const name = text(filenames[row]);
      if (name === undefined) throw new NotCifarBatchError(`${source}: "filenames"[${row}] is ${describe(filenames[row])}, expected a string`);
      return name;
    },
  };
}

function nameList(value: unknown, key: string, what: string): string[] {
  if (!Array.isArray(value)) throw new NotCifarBatchError(`${what}: "${key}" is ${describe(value)}, expected a list of names`);
  return value.map((v: unknown, i) => {
    const name = text(v);
    if (name === undefined) throw new NotCifarBatchError(`${what}: "${key}"[${i}] is ${describe(v)}, expected a name`);
    return name;
  });
}

/** Decodes the `meta` pickle (label names). */
export function decodeCifarMeta(bytes: Uint8Array | ChunkedBytes, source: string): CifarMeta {
  const dict = asDict(unpickle(bytes, source), source, 'meta');
  requireKeys(dict, ['fine_label_names', 'coarse_label_names'], source, 'meta');
  return {
    fineLabelNames: nameList(dict['fine_label_names'], 'fine_label_names', source),
    coarseLabelNames: nameList(dict['coarse_label_names'], 'coarse_label_names', source),
  };
}

/** Checks a batch's fine labels against the meta's names (a label past the list means mismatched files). */
export function checkLabelsAgainstMeta(batch: CifarBatch, meta: CifarMeta): void {
  const count = meta.fineLabelNames.length;
  const bad = batch.fineLabels.findIndex((label) => label >= count);
  if (bad >= 0) {
    throw new ShapeMismatchError(`${batch.source}: row ${bad} has fine label ${batch.fineLabels[bad]} but meta names only ${count} classes`);
  }
}
