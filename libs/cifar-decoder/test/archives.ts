import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { writeCifarFixtureArchive } from '../src/lib/fixture-archive';

const run = promisify(execFile);

/** The real bicycle/motorcycle rows (../shared/data from the repository root), when this checkout has them. */
export const SHARED_ARCHIVE = resolve(__dirname, '../../../../shared/data/cifar-100-python-bicycle-motorcycle.tar.gz');

export function sharedArchive(): string | undefined {
  return existsSync(SHARED_ARCHIVE) ? SHARED_ARCHIVE : undefined;
}

/** A scratch directory removed by the returned function. */
export async function scratch(prefix = 'cifar-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * The archive tests stage: the real subset when present, otherwise a fixture of the same shape
 * (1000 train + 200 test rows of bicycle and motorcycle, 500/500 and 100/100).
 */
export async function bicycleMotorcycleArchive(dir: string): Promise<{ path: string; real: boolean }> {
  const shared = sharedArchive();
  if (shared) return { path: shared, real: true };
  const path = join(dir, 'cifar-100-python-fixture.tar.gz');
  await writeCifarFixtureArchive(path, { trainRows: 1000, testRows: 200, classes: ['bicycle', 'motorcycle'] });
  return { path, real: false };
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
