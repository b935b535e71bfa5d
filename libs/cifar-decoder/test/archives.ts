import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fixturePixels, fixtureRow, tarGz, type CifarFixtureOptions } from '../src/lib/fixture-archive';
import { cifarBatchPickleParts } from '../src/lib/pickle-writer';
import { readTarGz } from '../src/lib/tar-gz';

const run = promisify(execFile);

/** The real bicycle/motorcycle rows shipped in the repository (libs/cifar-decoder/data; its README says what they are). */
export const REAL_SUBSET = resolve(__dirname, '../data/cifar-100-python-bicycle-motorcycle.tar.gz');

/** A scratch directory removed by the returned function. */
export async function scratch(prefix = 'cifar-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The real subset's members (`cifar-100-python/train`, ...) with their bytes, in archive order. */
export async function realSubsetMembers(): Promise<Array<{ name: string; data: Buffer }>> {
  const members: Array<{ name: string; data: Buffer }> = [];
  await readTarGz(REAL_SUBSET, {
    onMember: (name) => {
      const chunks: Uint8Array[] = [];
      return { data: (chunk) => chunks.push(Buffer.from(chunk)), end: () => members.push({ name, data: Buffer.concat(chunks) }) };
    },
  });
  return members;
}

/** The real subset without one of its members, as a .tar.gz in `dir`. */
export async function realSubsetWithout(member: 'train' | 'test' | 'meta', dir: string): Promise<string> {
  const path = join(dir, `real-without-${member}.tar.gz`);
  await writeFile(path, await tarGz((await realSubsetMembers()).filter((m) => m.name !== `cifar-100-python/${member}`)));
  return path;
}

/**
 * A train batch pickle of the official layout whose `data` has shape (rows, 3, 1024) instead of
 * (rows, 3072): the same bytes, reshaped by channel, as a careless re-export would write.
 */
export function wrongShapeTrainPickle(rows: number, options: CifarFixtureOptions = {}): Buffer {
  const fixture = Array.from({ length: rows }, (_, row) => fixtureRow('train', row, options));
  const parts = cifarBatchPickleParts({
    batchLabel: 'training batch 1 of 1',
    filenames: fixture.map((r) => r.filename),
    fineLabels: fixture.map((r) => r.fineLabel),
    coarseLabels: fixture.map((r) => r.coarseLabel),
  });
  // BININT2 3072, TUPLE2  ->  BININT1 3, BININT2 1024, TUPLE3
  const from = Buffer.from([0x4d, 0x00, 0x0c, 0x86]);
  const at = parts.head.indexOf(from);
  if (at < 0) throw new Error('wrongShapeTrainPickle: shape tuple not found');
  const head = Buffer.concat([parts.head.subarray(0, at), Buffer.from([0x4b, 3, 0x4d, 0x00, 0x04, 0x87]), parts.head.subarray(at + from.length)]);
  const data = Buffer.concat(Array.from({ length: rows }, (_, row) => fixturePixels('train', row)));
  return Buffer.concat([head, data, parts.tail]);
}

export interface PythonView {
  /** 'numpy' when numpy rebuilt the arrays, 'stub' when a stand-in class captured the raw bytes. */
  reader: 'numpy' | 'stub';
  rows: number;
  filenames: string[];
  fineLabels: number[];
  /** Hex of the requested rows' 3072 bytes. */
  pixels: Record<string, string>;
  fineLabelNames: string[];
}

const PYTHON_READER = `
import io, json, pickle, sys, tarfile
path, member, rows = sys.argv[1], sys.argv[2], [int(r) for r in sys.argv[3].split(',') if r]
try:
    import numpy
    reader = 'numpy'
    load = lambda f: pickle.load(f, encoding='bytes')
except ImportError:
    # Without numpy, stand-ins for numpy's globals keep the raw bytes the pickle holds.
    reader = 'stub'
    class Array:
        def __setstate__(self, state):
            self.shape, self.raw = state[1], state[4]
    class Dtype:
        def __init__(self, *args): pass
        def __setstate__(self, state): pass
    class Stub(pickle.Unpickler):
        def find_class(self, module, name):
            if name == '_reconstruct': return lambda cls, shape, code: Array()
            if name == 'ndarray': return Array
            if name == 'dtype': return Dtype
            raise pickle.UnpicklingError(module + '.' + name)
    load = lambda f: Stub(f, encoding='bytes').load()
with tarfile.open(path, 'r:gz') as tar:
    batch = load(tar.extractfile('cifar-100-python/' + member))
    meta = load(tar.extractfile('cifar-100-python/meta'))
data = batch[b'data']
row_bytes = (lambda r: data[r].tobytes()) if reader == 'numpy' else (lambda r: data.raw[r * 3072:(r + 1) * 3072])
print(json.dumps({
    'reader': reader,
    'rows': len(batch[b'filenames']),
    'filenames': [f.decode('latin1') for f in batch[b'filenames']],
    'fineLabels': batch[b'fine_labels'],
    'pixels': {str(r): row_bytes(r).hex() for r in rows},
    'fineLabelNames': [n.decode('latin1') for n in meta[b'fine_label_names']],
}))
`;

/** What Debian's python3 `pickle` reads from an archive member, or undefined without python3. */
export async function readWithPython(path: string, member: 'train' | 'test', rows: number[]): Promise<PythonView | undefined> {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      await run(python, ['-c', 'import pickle, tarfile']);
    } catch {
      continue;
    }
    const { stdout } = await run(python, ['-c', PYTHON_READER, path, member, rows.join(',')], { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout) as PythonView;
  }
  return undefined;
}
