import { NameRegistry, Parser } from 'pickleparser';
import { CifarDecoderError, PickleDecodeError, ShapeMismatchError } from '../errors';
import { ChunkedBytes } from './chunked-bytes';

/**
 * Unpickling with `pickleparser`, adapted to Python 2 pickles of numpy arrays:
 * - Python 2 `str` (SHORT_BINSTRING / BINSTRING) is bytes. pickleparser would text-decode it as
 *   windows-1252 and mangle pixels, so our reader returns {@link PyBytes}: a zero-copy view.
 * - `numpy.core.multiarray._reconstruct`, `numpy.ndarray` and `numpy.dtype` are registered, so an
 *   array comes back as {@link NdArray} whose `data` is a view of the pickle bytes (no copy).
 */

type PickleReader = Parameters<Parser['read']>[0];

/** A Python 2 `str` / `bytes` value: raw bytes, never text-decoded. */
export class PyBytes {
  constructor(
    private readonly source: ChunkedBytes,
    /** Offset of the value in the pickle. */
    readonly start: number,
    readonly end: number,
  ) {}

  get length(): number {
    return this.end - this.start;
  }

  /** The bytes: a view of the pickle (a copy only if they straddle two decompressed chunks). */
  get bytes(): Uint8Array {
    return this.source.range(this.start, this.end);
  }

  /** Bytes [from, to) of the value, relative to its start. */
  range(from: number, to: number): Uint8Array {
    return this.source.range(this.start + from, this.start + to);
  }

  /** One character per byte (latin1), so the value works as a dictionary key and compares as text. */
  toString(): string {
    const bytes = this.bytes;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}

/**
 * A Python 3 `bytes` value (BINBYTES and friends): the bytes as a Uint8Array view whose text form
 * is one character per byte, so `{b'data': ...}` has the key "data" (not "100,97,116,97"), as
 * {@link PyBytes} does for Python 2 strings.
 */
export class Py3Bytes extends Uint8Array {
  override toString(): string {
    return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString('latin1');
  }
}

/** A numpy dtype, as far as its pickle says (`dtype('u1')` then its state tuple). */
export class NpDtype {
  byteOrder = '|';
  constructor(readonly descr: string) {}

  __setstate__(state: unknown[]): void {
    if (Array.isArray(state) && state.length >= 2) this.byteOrder = String(state[1]);
  }
}

/** A numpy array rebuilt from its pickle: shape, dtype and the raw bytes (C order). */
export class NdArray {
  shape: number[] = [];
  dtype: NpDtype | undefined;
  /** The array's bytes as they sit in the pickle (Python 2 str), or a Python 3 bytes value. */
  raw: PyBytes | Uint8Array = new Uint8Array(0);
  private joined: Uint8Array | undefined;

  /** The bytes as one array: a view of the pickle, joined (copied once) only when it arrived in chunks. */
  get data(): Uint8Array {
    return (this.joined ??= this.raw instanceof PyBytes ? this.raw.bytes : this.raw);
  }

  /** numpy's ndarray.__setstate__: (version, shape, dtype, is_fortran, raw bytes), version optional. */
  __setstate__(state: unknown[]): void {
    if (!Array.isArray(state) || (state.length !== 4 && state.length !== 5)) {
      throw new PickleDecodeError(`numpy array state: expected a 4- or 5-tuple, got ${describe(state)}`);
    }
    const [shape, dtype, fortran, raw] = state.length === 5 ? state.slice(1) : state;
    this.assign(shape, dtype, fortran, raw);
  }

  /** Sets shape, dtype and bytes after checking them (uint8, C order, size matching the shape). */
  assign(shape: unknown, dtype: unknown, fortran: unknown, raw: unknown): void {
    if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
      throw new PickleDecodeError(`numpy array state: shape is not a tuple of sizes: ${describe(shape)}`);
    }
    if (!(dtype instanceof NpDtype)) throw new PickleDecodeError(`numpy array state: dtype is ${describe(dtype)}`);
    if (dtype.descr !== 'u1' && dtype.descr !== '|u1') {
      throw new PickleDecodeError(`numpy array: dtype ${JSON.stringify(dtype.descr)} is not supported (CIFAR pixels are uint8, 'u1')`);
    }
    if (fortran) throw new PickleDecodeError('numpy array: Fortran order is not supported (CIFAR arrays are C order)');
    if (!(raw instanceof PyBytes) && !(raw instanceof Uint8Array)) throw new PickleDecodeError(`numpy array state: data is ${describe(raw)}, expected bytes`);
    const expected = shape.reduce((a: number, b: number) => a * b, 1);
    if (raw.length !== expected) {
      throw new ShapeMismatchError(`numpy array: shape (${shape.join(', ')}) needs ${expected} bytes but the pickle holds ${raw.length}`);
    }
    this.shape = shape;
    this.dtype = dtype;
    this.raw = raw;
  }
}

/** Stands for the `numpy.ndarray` class, which pickles pass to `_reconstruct` (never call it). */
function NDARRAY_CLASS(): never {
  throw new PickleDecodeError('numpy.ndarray(...) is called directly; only ndarrays pickled by numpy (via _reconstruct) are supported');
}

function reconstruct(cls: unknown): NdArray {
  if (cls !== NDARRAY_CLASS) throw new PickleDecodeError(`numpy _reconstruct: expected numpy.ndarray, got ${describe(cls)}`);
  return new NdArray();
}

/** numpy's `_frombuffer(buffer, dtype, shape, order)`: how protocol 5 pickles an array. */
function fromBuffer(raw: unknown, dtype: unknown, shape: unknown, order: unknown): NdArray {
  const array = new NdArray();
  array.assign(shape, dtype, order === 'F', raw);
  return array;
}

/** `_codecs.encode(text, 'latin1')`: how Python 3 pickles `bytes` with protocol 2. */
function codecsEncode(text: unknown, encoding: unknown): Py3Bytes {
  if (typeof text !== 'string' || !['latin1', 'latin-1', 'iso-8859-1'].includes(String(encoding).toLowerCase())) {
    throw new PickleDecodeError(`_codecs.encode(${describe(text)}, ${describe(encoding)}) is not supported (Python 3 pickles bytes as latin1 text)`);
  }
  const bytes = Buffer.from(text, 'latin1');
  return new Py3Bytes(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function numpyNames(): NameRegistry {
  const registry = new NameRegistry();
  // numpy 1.x pickles say numpy.core, numpy 2.x numpy._core.
  for (const module of ['numpy.core.multiarray', 'numpy._core.multiarray']) registry.register(module, '_reconstruct', reconstruct);
  for (const module of ['numpy.core.numeric', 'numpy._core.numeric']) registry.register(module, '_frombuffer', fromBuffer);
  registry.register('_codecs', 'encode', codecsEncode);
  registry.register('numpy', 'ndarray', NDARRAY_CLASS);
  registry.register('numpy', 'dtype', (descr: unknown) => new NpDtype(String(descr)));
  return registry;
}

/** Describes a decoded value in an error message. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (value instanceof PyBytes || value instanceof Py3Bytes) return value.length > 40 ? `bytes of length ${value.length}` : JSON.stringify(value.toString());
  if (Array.isArray(value)) return `a sequence of ${value.length}`;
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as { __module__?: string; __name__?: string } | null;
    if (proto?.__module__) return `${proto.__module__}.${proto.__name__}`;
    return value.constructor?.name ?? 'an object';
  }
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** A pickleparser reader over the pickle's chunks, returning Python 2 strings as {@link PyBytes}. */
class Py2BytesReader implements PickleReader {
  private position = 0;
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkStart = 0;
  private chunkEnd = 0;
  private readonly length: number;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly source: ChunkedBytes,
    private readonly what: string,
  ) {
    this.length = source.length;
  }

  private need(count: number): void {
    if (count < 0 || this.position + count > this.length) {
      throw new PickleDecodeError(`${this.what}: pickle ends at byte ${this.length} but needs ${this.position + count - this.length} more (truncated?)`);
    }
  }

  private take(count: number): Uint8Array {
    this.need(count);
    const bytes = this.source.range(this.position, this.position + count);
    this.position += count;
    return bytes;
  }

  byte(): number {
    const at = this.position;
    if (at >= this.chunkEnd || at < this.chunkStart) {
      this.need(1);
      const { bytes, start } = this.source.chunkAt(this.source.chunkIndex(at));
      if (start + bytes.length <= at) throw new PickleDecodeError(`${this.what}: byte ${at} is no longer held (released after staging)`);
      this.chunk = bytes;
      this.chunkStart = start;
      this.chunkEnd = start + bytes.length;
    }
    this.position = at + 1;
    return this.chunk[at - this.chunkStart];
  }
  bytes(length: number): Uint8Array {
    const bytes = this.take(length);
    // A view, not a copy (decompressed chunks are plain ArrayBuffers, never shared ones).
    return new Py3Bytes(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  }
  uint16(): number {
    return this.byte() | (this.byte() << 8);
  }
  int32(): number {
    return this.byte() | (this.byte() << 8) | (this.byte() << 16) | (this.byte() << 24);
  }
  uint32(): number {
    return this.int32() >>> 0;
  }
  uint64(): number {
    const value = this.uint32() + 2 ** 32 * this.uint32();
    if (!Number.isSafeInteger(value)) throw new PickleDecodeError(`${this.what}: 64-bit length ${value} is too large`);
    return value;
  }
  float64(): number {
    const bytes = this.take(8);
    return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, false);
  }
  skip(length: number): void {
    this.need(length);
    this.position += length;
  }
  string(size: number, encoding: 'ascii' | 'utf-8'): string {
    if (encoding === 'utf-8') return this.utf8.decode(this.take(size));
    this.need(size);
    const value = new PyBytes(this.source, this.position, this.position + size);
    this.position += size;
    // Python 2 str: bytes. pickleparser's type says string; every consumer here knows PyBytes.
    return value as unknown as string;
  }
  line(): string {
    let text = '';
    for (let c = this.byte(); c !== 0x0a; c = this.byte()) text += String.fromCharCode(c);
    return text;
  }
  hasNext(): boolean {
    return this.position < this.length;
  }
}

/**
 * Decodes a pickle held in `bytes` (one buffer, or the chunks it was decompressed in). `what`
 * names it in errors (e.g. `cifar-100-python/train`). Strings of Python 2 come back as
 * {@link PyBytes}, numpy arrays as {@link NdArray}; both refer to the input bytes, not copies.
 */
export function unpickle(bytes: Uint8Array | ChunkedBytes, what = 'pickle'): unknown {
  const source = bytes instanceof ChunkedBytes ? bytes : ChunkedBytes.of(bytes);
  const head = source.range(0, Math.min(4, source.length));
  if (head.length < 2 || head[0] !== 0x80) {
    throw new PickleDecodeError(`${what}: not a pickle of protocol 2 or later (starts with ${Buffer.from(head).toString('hex') || 'nothing'})`);
  }
  try {
    return new Parser({ nameResolver: numpyNames() }).read(new Py2BytesReader(source, what));
  } catch (error) {
    if (error instanceof CifarDecoderError) {
      if (!error.message.startsWith(what)) error.message = `${what}: ${error.message}`;
      throw error;
    }
    throw new PickleDecodeError(`${what}: cannot decode pickle: ${(error as Error).message}`);
  }
}
