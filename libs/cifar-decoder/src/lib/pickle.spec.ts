import { PickleDecodeError, ShapeMismatchError } from '../errors';
import { NdArray, Py3Bytes, PyBytes, unpickle } from './pickle';
import { cifarBatchPickleParts } from './pickle-writer';

/** Builds a protocol-2 pickle from opcode bytes and strings. */
function pickle(...parts: Array<number | string | number[]>): Uint8Array {
  const bytes: number[] = [0x80, 2];
  for (const part of parts) {
    if (typeof part === 'number') bytes.push(part);
    else if (typeof part === 'string') bytes.push(...Buffer.from(part, 'latin1'));
    else bytes.push(...part);
  }
  return new Uint8Array(bytes);
}

/** SHORT_BINSTRING of raw bytes. */
const str = (bytes: number[]) => [0x55, bytes.length, ...bytes];

describe('unpickle', () => {
  it('returns Python 2 str as raw bytes, never text-decoded (0x80..0xff survive)', () => {
    const raw = [0x80, 0x81, 0x9f, 0xe9, 0xff, 0x00, 0x41];
    const value = unpickle(pickle(str(raw), '.'));
    expect(value).toBeInstanceOf(PyBytes);
    expect(Array.from((value as PyBytes).bytes)).toEqual(raw);
    // latin1 text keeps one character per byte (windows-1252 would turn 0x80 into U+20AC)
    expect((value as PyBytes).toString().charCodeAt(0)).toBe(0x80);
  });

  it('gives a view of the input, not a copy', () => {
    const input = pickle(str([1, 2, 3]), '.');
    const value = unpickle(input) as PyBytes;
    input[4] = 99; // the first byte of the string
    expect(Array.from(value.bytes)).toEqual([99, 2, 3]);
  });

  it('keys dictionaries by the text of Python 2 str keys', () => {
    const value = unpickle(pickle('}(', str([...Buffer.from('k')]), 'K', 7, 'u.')) as Record<string, unknown>;
    expect(value).toEqual({ k: 7 });
  });

  // The pickles below are what CPython 3.11 writes: pickle.dumps(value, protocol=N).hex()
  const python3 = (hex: string) => Buffer.from(hex, 'hex');

  it('keys dictionaries by the text of Python 3 bytes keys, not their byte codes', () => {
    // {b'data': 7, b'fine_labels': 1}, protocol 4 (SHORT_BINBYTES keys)
    const value = unpickle(python3('8004951e000000000000007d9428430464617461944b07430b66696e655f6c6162656c73944b01752e')) as Record<string, unknown>;
    expect(value).toEqual({ data: 7, fine_labels: 1 });
  });

  it("decodes Python 3 bytes pickled with protocol 2 (_codecs.encode(text, 'latin1'))", () => {
    // b'\xe9a', protocol 2
    const value = unpickle(python3('8002635f636f646563730a656e636f64650a71005803000000c3a961710158060000006c6174696e3171028671035271042e'));
    expect(value).toBeInstanceOf(Py3Bytes);
    expect(Array.from(value as Py3Bytes)).toEqual([0xe9, 0x61]);
    expect(String(value)).toBe('\u00e9a');
    const rot13 = pickle('c_codecs\nencode\n', 'X', [1, 0, 0, 0], 'a', 'X', [5, 0, 0, 0], 'rot13', 0x86, 'R.');
    expect(() => unpickle(rot13)).toThrow('pickle: _codecs.encode(string "a", string "rot13") is not supported (Python 3 pickles bytes as latin1 text)');
  });

  it("rebuilds a numpy array pickled with protocol 5 (numpy's _frombuffer)", () => {
    // numpy.arange(1, 7, dtype=numpy.uint8).reshape(2, 3), protocol 5, numpy 2.x
    const value = unpickle(
      python3(
        '8005957c000000000000008c136e756d70792e5f636f72652e6e756d65726963948c0b5f66726f6d62756666657294939428960600000000000000010203040506948c056e756d7079948c0564747970659493948c02753194898887945294284b038c017c944e4e4e4affffffff4affffffff4b007494624b024b0386948c014394749452942e',
      ),
    );
    expect(value).toBeInstanceOf(NdArray);
    expect((value as NdArray).shape).toEqual([2, 3]);
    expect(Array.from((value as NdArray).data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('decodes BINUNICODE (Python 3 str) as UTF-8 text', () => {
    const text = Buffer.from('vélo', 'utf8');
    expect(unpickle(pickle('X', [text.length, 0, 0, 0], [...text], '.'))).toBe('vélo');
  });

  it('rebuilds a numpy uint8 array with its data as a view of the pickle', () => {
    const parts = cifarBatchPickleParts({ batchLabel: 'b', filenames: ['a.png', 'b.png'], fineLabels: [1, 2], coarseLabels: [0, 0] });
    const data = new Uint8Array(2 * 3072).map((_, i) => i % 251);
    const bytes = Buffer.concat([parts.head, data, parts.tail]);
    const dict = unpickle(bytes) as Record<string, unknown>;
    const array = dict['data'] as NdArray;
    expect(array).toBeInstanceOf(NdArray);
    expect(array.shape).toEqual([2, 3072]);
    expect(array.dtype?.descr).toBe('u1');
    expect(array.data.buffer).toBe(bytes.buffer);
    expect(Buffer.from(array.data).equals(Buffer.from(data))).toBe(true);
  });

  it('names a truncated pickle', () => {
    const parts = cifarBatchPickleParts({ batchLabel: 'b', filenames: ['a.png'], fineLabels: [1], coarseLabels: [0] });
    const bytes = Buffer.concat([parts.head, new Uint8Array(100)]);
    expect(() => unpickle(bytes, 'cifar-100-python/train')).toThrow(PickleDecodeError);
    expect(() => unpickle(bytes, 'cifar-100-python/train')).toThrow(/^cifar-100-python\/train: pickle ends at byte \d+ but needs \d+ more \(truncated\?\)$/);
  });

  it('rejects bytes that are not a protocol 2+ pickle', () => {
    expect(() => unpickle(Buffer.from('hello'), 'x')).toThrow(new PickleDecodeError('x: not a pickle of protocol 2 or later (starts with 68656c6c)'));
  });

  it('reports unsupported opcodes and a missing STOP', () => {
    expect(() => unpickle(pickle(0xff), 'x')).toThrow(/^x: cannot decode pickle: Unsupported opcode '255'/);
    expect(() => unpickle(pickle('N'), 'x')).toThrow(/^x: cannot decode pickle: Unexpected end of file/);
  });

  it('rejects arrays whose shape and byte count disagree', () => {
    const parts = cifarBatchPickleParts({ batchLabel: 'b', filenames: ['a.png', 'b.png'], fineLabels: [1, 2], coarseLabels: [0, 0] });
    // Claim two rows of data but hold one (the BINSTRING length is patched to match).
    const head = Buffer.from(parts.head);
    head.writeUInt32LE(3072, head.length - 4);
    const bytes = Buffer.concat([head, new Uint8Array(3072), parts.tail]);
    expect(() => unpickle(bytes, 't')).toThrow(ShapeMismatchError);
    expect(() => unpickle(bytes, 't')).toThrow('t: numpy array: shape (2, 3072) needs 6144 bytes but the pickle holds 3072');
  });

  it('rejects dtypes other than uint8', () => {
    const parts = cifarBatchPickleParts({ batchLabel: 'b', filenames: ['a.png'], fineLabels: [1], coarseLabels: [0] });
    const head = Buffer.from(parts.head);
    const at = head.indexOf(Buffer.from('U\x02u1', 'latin1'));
    head.write('f4', at + 2, 'latin1');
    expect(() => unpickle(Buffer.concat([head, new Uint8Array(3072), parts.tail]), 't')).toThrow(`t: numpy array: dtype "f4" is not supported (CIFAR pixels are uint8, 'u1')`);
  });

  it('rejects Fortran-ordered arrays', () => {
    const parts = cifarBatchPickleParts({ batchLabel: 'b', filenames: ['a.png'], fineLabels: [1], coarseLabels: [0] });
    const head = Buffer.from(parts.head);
    head[head.length - 6] = 0x88; // NEWFALSE -> NEWTRUE before the BINSTRING
    expect(() => unpickle(Buffer.concat([head, new Uint8Array(3072), parts.tail]), 't')).toThrow('t: numpy array: Fortran order is not supported');
  });

  it('leaves unknown globals as inert objects (no code runs)', () => {
    const value = unpickle(pickle('cos\nsystem\n', str([...Buffer.from('echo hi')]), 0x85, 'R.'));
    expect(Object.getPrototypeOf(value)).toMatchObject({ __module__: 'os', __name__: 'system' });
  });
});
