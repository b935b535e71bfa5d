/**
 * Writes CIFAR-100 pickles opcode for opcode like the official files (Python 2 cPickle,
 * protocol 2; see ../shared/data/README.md). Used by the fixture writer, so tests and benchmarks
 * read exactly the byte layout the real archive has.
 */

const OP = {
  PROTO: 0x80,
  EMPTY_DICT: 0x7d,
  EMPTY_LIST: 0x5d,
  MARK: 0x28,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  SHORT_BINSTRING: 0x55,
  BINSTRING: 0x54,
  APPEND: 0x61,
  APPENDS: 0x65,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  GLOBAL: 0x63,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  REDUCE: 0x52,
  BUILD: 0x62,
  NONE: 0x4e,
  NEWFALSE: 0x89,
  SETITEMS: 0x75,
  STOP: 0x2e,
} as const;

/** cPickle writes lists in batches of this many items. */
const BATCH_SIZE = 1000;

/** One CIFAR batch dictionary without its pixel bytes. */
export interface CifarBatchFields {
  batchLabel: string;
  filenames: readonly string[];
  fineLabels: ArrayLike<number>;
  coarseLabels: ArrayLike<number>;
}

/** A batch pickle split around its pixel bytes, so large batches can be streamed. */
export interface CifarBatchPickleParts {
  /** Everything up to and including the BINSTRING opcode and length of `data`. */
  head: Buffer;
  /** rows x 3072: the pixel bytes that go between head and tail. */
  dataLength: number;
  /** TUPLE, BUILD, SETITEMS, STOP. */
  tail: Buffer;
}

class Py2PickleWriter {
  private buffer = Buffer.allocUnsafe(1 << 16);
  private length = 0;
  private memo = 1;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  op(code: number): this {
    this.ensure(1);
    this.buffer[this.length++] = code;
    return this;
  }

  /** Memoizes the top of the stack, as cPickle does after every container and most strings. */
  put(): this {
    const id = this.memo++;
    if (id < 256) {
      this.ensure(2);
      this.buffer[this.length++] = OP.BINPUT;
      this.buffer[this.length++] = id;
    } else {
      this.ensure(5);
      this.buffer[this.length++] = OP.LONG_BINPUT;
      this.buffer.writeUInt32LE(id, this.length);
      this.length += 4;
    }
    return this;
  }

  int(value: number): this {
    if (value >= 0 && value < 256) {
      this.ensure(2);
      this.buffer[this.length++] = OP.BININT1;
      this.buffer[this.length++] = value;
    } else if (value >= 0 && value < 65536) {
      this.ensure(3);
      this.buffer[this.length++] = OP.BININT2;
      this.buffer.writeUInt16LE(value, this.length);
      this.length += 2;
    } else {
      this.ensure(5);
      this.buffer[this.length++] = OP.BININT;
      this.buffer.writeInt32LE(value, this.length);
      this.length += 4;
    }
    return this;
  }

  /** A Python 2 `str`: raw bytes (latin1 keeps one byte per character). */
  str(value: string): this {
    const bytes = Buffer.from(value, 'latin1');
    if (bytes.length < 256) {
      this.ensure(2 + bytes.length);
      this.buffer[this.length++] = OP.SHORT_BINSTRING;
      this.buffer[this.length++] = bytes.length;
    } else {
      this.ensure(5 + bytes.length);
      this.buffer[this.length++] = OP.BINSTRING;
      this.buffer.writeUInt32LE(bytes.length, this.length);
      this.length += 4;
    }
    bytes.copy(this.buffer, this.length);
    this.length += bytes.length;
    return this;
  }

  global(module: string, name: string): this {
    const text = Buffer.from(`${module}\n${name}\n`, 'latin1');
    this.ensure(1 + text.length);
    this.buffer[this.length++] = OP.GLOBAL;
    text.copy(this.buffer, this.length);
    this.length += text.length;
    return this;
  }

  binstringHeader(length: number): this {
    this.ensure(5);
    this.buffer[this.length++] = OP.BINSTRING;
    this.buffer.writeUInt32LE(length, this.length);
    this.length += 4;
    return this;
  }

  /** A list the way cPickle writes it: EMPTY_LIST, then MARK ... APPENDS per batch (APPEND for one item). */
  list<T>(items: ArrayLike<T>, writeItem: (item: T) => void): this {
    this.op(OP.EMPTY_LIST).put();
    for (let start = 0; start < items.length; start += BATCH_SIZE) {
      const end = Math.min(items.length, start + BATCH_SIZE);
      if (end - start === 1) {
        writeItem(items[start]);
        this.op(OP.APPEND);
        continue;
      }
      this.op(OP.MARK);
      for (let i = start; i < end; i++) writeItem(items[i]);
      this.op(OP.APPENDS);
    }
    return this;
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/** The pickle of a train/test batch, split around the pixel bytes. */
export function cifarBatchPickleParts(fields: CifarBatchFields): CifarBatchPickleParts {
  const rows = fields.filenames.length;
  if (fields.fineLabels.length !== rows || fields.coarseLabels.length !== rows) {
    throw new RangeError(`batch fields disagree: ${rows} filenames, ${fields.fineLabels.length} fine labels, ${fields.coarseLabels.length} coarse labels`);
  }
  const w = new Py2PickleWriter();
  w.op(OP.PROTO).op(2).op(OP.EMPTY_DICT).put().op(OP.MARK);
  w.str('filenames').put().list(fields.filenames, (name) => w.str(name).put());
  w.str('batch_label').put().str(fields.batchLabel).put();
  w.str('fine_labels').put().list(fields.fineLabels, (label) => w.int(label));
  w.str('coarse_labels').put().list(fields.coarseLabels, (label) => w.int(label));
  // numpy's ndarray.__reduce__: _reconstruct(ndarray, (0,), 'b') then
  // __setstate__((1, shape, dtype('u1'), False, raw bytes)).
  w.str('data').put();
  w.global('numpy.core.multiarray', '_reconstruct').put();
  w.global('numpy', 'ndarray').put();
  w.int(0).op(OP.TUPLE1).str('b').op(OP.TUPLE3).op(OP.REDUCE).put();
  w.op(OP.MARK).int(1).int(rows).int(3072).op(OP.TUPLE2);
  w.global('numpy', 'dtype').put();
  w.str('u1').int(0).int(1).op(OP.TUPLE3).op(OP.REDUCE).put();
  w.op(OP.MARK).int(3).str('|').op(OP.NONE).op(OP.NONE).op(OP.NONE).int(-1).int(-1).int(0).op(OP.TUPLE).op(OP.BUILD);
  w.op(OP.NEWFALSE).binstringHeader(rows * 3072);
  return { head: Buffer.from(w.bytes()), dataLength: rows * 3072, tail: Buffer.from([OP.TUPLE, OP.BUILD, OP.SETITEMS, OP.STOP]) };
}

/** A whole train/test batch pickle (for small batches; large ones stream the parts). */
export function encodeCifarBatchPickle(fields: CifarBatchFields & { data: Uint8Array }): Buffer {
  const parts = cifarBatchPickleParts(fields);
  if (fields.data.length !== parts.dataLength) {
    throw new RangeError(`data has ${fields.data.length} bytes, expected ${fields.filenames.length} rows x 3072 = ${parts.dataLength}`);
  }
  return Buffer.concat([parts.head, fields.data, parts.tail]);
}

/** The `meta` pickle (`fine_label_names`, `coarse_label_names`), as in the official archive. */
export function encodeCifarMetaPickle(meta: { fineLabelNames: readonly string[]; coarseLabelNames: readonly string[] }): Buffer {
  const w = new Py2PickleWriter();
  w.op(OP.PROTO).op(2).op(OP.EMPTY_DICT).put().op(OP.MARK);
  w.str('fine_label_names').put().list(meta.fineLabelNames, (name) => w.str(name).put());
  w.str('coarse_label_names').put().list(meta.coarseLabelNames, (name) => w.str(name).put());
  w.op(OP.SETITEMS).op(OP.STOP);
  return Buffer.from(w.bytes());
}
