import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Pack } from 'tar-stream';
import { CIFAR100_COARSE_LABEL_NAMES, CIFAR100_COARSE_OF_FINE, CIFAR100_FINE_LABEL_NAMES } from './cifar100-labels';
import { ROW_BYTES } from './cifar-batch';
import { cifarBatchPickleParts, encodeCifarMetaPickle } from './pickle-writer';

/**
 * Generated archives with the exact layout of the official `cifar-100-python.tar.gz` (member
 * order, tar headers, pickle opcodes), at any size: tests use small ones, the benchmark a
 * full-size one (50 000 + 10 000 rows). Pixels are a deterministic function of (member, row),
 * so tests can check decoded images against {@link fixturePixels}; they are smooth gradients
 * plus noise, which gzip compresses about as well as real CIFAR images (~0.9).
 */

export type CifarMemberName = 'train' | 'test' | 'meta';

export interface CifarFixtureOptions {
  /** Rows of `train` (official: 50 000). Default 1000. */
  trainRows?: number;
  /** Rows of `test` (official: 10 000). Default 200. */
  testRows?: number;
  /** Fine classes the rows cycle through, by name (default: all 100, i.e. balanced like the official files). */
  classes?: readonly string[];
  /** Members in archive order (official: train, test, meta); leave one out to make a broken archive. */
  members?: readonly CifarMemberName[];
  /** Replaces a member's pickle bytes (bad-input tests). */
  replace?: Partial<Record<CifarMemberName, Uint8Array>>;
  /** Fine label names written to `meta` (default: the official 100, in order). */
  fineLabelNames?: readonly string[];
  /** gzip level (default 6, as the official archive). */
  gzipLevel?: number;
}

export interface FixtureRow {
  filename: string;
  fineLabel: number;
  coarseLabel: number;
}

const ARCHIVE_DIR = 'cifar-100-python';
const MTIME = new Date('2009-04-27T00:00:00Z');
const OWNER = { uname: 'kriz', gname: 'kriz', uid: 1000, gid: 1000 };
const DEFAULT_MEMBERS: readonly CifarMemberName[] = ['train', 'test', 'meta'];

function rowsOf(member: 'train' | 'test', options: CifarFixtureOptions): number {
  return member === 'train' ? (options.trainRows ?? 1000) : (options.testRows ?? 200);
}

function classIndices(options: CifarFixtureOptions): number[] {
  const names = options.fineLabelNames ?? CIFAR100_FINE_LABEL_NAMES;
  const classes = options.classes ?? names;
  return classes.map((name) => {
    const index = names.indexOf(name);
    if (index < 0) throw new RangeError(`fixture: unknown class ${JSON.stringify(name)}`);
    return index;
  });
}

/** Filename and labels of a fixture row: classes cycle in the given order. */
export function fixtureRow(member: 'train' | 'test', row: number, options: CifarFixtureOptions = {}): FixtureRow {
  const classes = classIndices(options);
  const fineLabel = classes[row % classes.length];
  const names = options.fineLabelNames ?? CIFAR100_FINE_LABEL_NAMES;
  return {
    filename: `${names[fineLabel]}_s_${String(row).padStart(6, '0')}.png`,
    fineLabel,
    coarseLabel: CIFAR100_COARSE_OF_FINE[fineLabel] ?? 0,
  };
}

/**
 * The 3072 planar bytes (1024 R, 1024 G, 1024 B) of a fixture row: per channel a random level
 * and gradient plus +-5 noise, from an xorshift generator seeded by (member, row).
 */
export function fixturePixels(member: 'train' | 'test', row: number, out = new Uint8Array(ROW_BYTES)): Uint8Array {
  let s = (Math.imul(row + 1, 0x9e3779b1) ^ (member === 'train' ? 0x1234567 : 0x7654321)) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  for (let c = 0; c < 3; c++) {
    const level = 30 + (next() % 190);
    const gx = (next() % 7) - 3;
    const gy = (next() % 7) - 3;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const v = level + (gx * (x - 16)) / 2 + (gy * (y - 16)) / 2 + ((next() % 11) - 5);
        out[c * 1024 + y * 32 + x] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

async function writeChunk(stream: Writable, chunk: Uint8Array): Promise<void> {
  if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

async function addEntry(pack: Pack, name: string, size: number, body: (entry: Writable) => Promise<void>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const entry = pack.entry({ name, size, mode: 0o644, mtime: MTIME, type: 'file', ...OWNER }, (error) => (error ? reject(error) : resolve())) as unknown as Writable;
    body(entry).then(() => entry.end(), reject);
  });
}

async function addBatch(pack: Pack, member: 'train' | 'test', options: CifarFixtureOptions): Promise<void> {
  const rows = rowsOf(member, options);
  const filenames: string[] = new Array(rows);
  const fine = new Uint8Array(rows);
  const coarse = new Uint8Array(rows);
  for (let row = 0; row < rows; row++) {
    const r = fixtureRow(member, row, options);
    filenames[row] = r.filename;
    fine[row] = r.fineLabel;
    coarse[row] = r.coarseLabel;
  }
  const batchLabel = member === 'train' ? 'training batch 1 of 1' : 'testing batch 1 of 1';
  const parts = cifarBatchPickleParts({ batchLabel, filenames, fineLabels: fine, coarseLabels: coarse });
  await addEntry(pack, `${ARCHIVE_DIR}/${member}`, parts.head.length + parts.dataLength + parts.tail.length, async (entry) => {
    await writeChunk(entry, parts.head);
    const perChunk = 256;
    for (let start = 0; start < rows; start += perChunk) {
      const count = Math.min(perChunk, rows - start);
      const chunk = Buffer.allocUnsafe(count * ROW_BYTES);
      for (let i = 0; i < count; i++) fixturePixels(member, start + i, chunk.subarray(i * ROW_BYTES, (i + 1) * ROW_BYTES));
      await writeChunk(entry, chunk);
    }
    await writeChunk(entry, parts.tail);
  });
}

/** The archive as a stream of gzip bytes (written while it is read, so full size needs little memory). */
export function cifarFixtureArchiveStream(options: CifarFixtureOptions = {}): Readable {
  classIndices(options); // throws on an unknown class before anything is written
  const pack = tarPack();
  const gzip = createGzip({ level: options.gzipLevel ?? 6 });
  // Errors reach the reader through the gzip stream; the pack's own copy has no other listener.
  pack.on('error', () => undefined);
  const fill = async () => {
    // The official archive starts with its directory and an empty editor backup file.
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: `${ARCHIVE_DIR}/`, type: 'directory', mode: 0o755, mtime: MTIME, ...OWNER }, Buffer.alloc(0), (e) => (e ? reject(e) : resolve())),
    );
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: `${ARCHIVE_DIR}/file.txt~`, size: 0, mode: 0o644, mtime: MTIME, ...OWNER }, Buffer.alloc(0), (e) => (e ? reject(e) : resolve())),
    );
    for (const member of options.members ?? DEFAULT_MEMBERS) {
      const replacement = options.replace?.[member];
      if (replacement) {
        await addEntry(pack, `${ARCHIVE_DIR}/${member}`, replacement.length, (entry) => writeChunk(entry, replacement));
      } else if (member === 'meta') {
        const meta = encodeCifarMetaPickle({ fineLabelNames: options.fineLabelNames ?? CIFAR100_FINE_LABEL_NAMES, coarseLabelNames: CIFAR100_COARSE_LABEL_NAMES });
        await addEntry(pack, `${ARCHIVE_DIR}/meta`, meta.length, (entry) => writeChunk(entry, meta));
      } else {
        await addBatch(pack, member, options);
      }
    }
    pack.finalize();
  };
  fill().catch((error: Error) => gzip.destroy(error));
  return (pack as unknown as Readable).pipe(gzip);
}

/** The whole archive in memory (small fixtures for tests). */
export async function cifarFixtureArchive(options: CifarFixtureOptions = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of cifarFixtureArchiveStream(options)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes the archive to `path` (through a temporary name, so a partial file never has the final name). */
export async function writeCifarFixtureArchive(path: string, options: CifarFixtureOptions = {}): Promise<void> {
  const temporary = `${path}.partial-${process.pid}`;
  try {
    await pipeline(cifarFixtureArchiveStream(options), createWriteStream(temporary));
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** A gzip'd tar of arbitrary members (for archives that break the layout in other ways). */
export async function tarGz(members: ReadonlyArray<{ name: string; data: Uint8Array }>): Promise<Buffer> {
  const pack = tarPack();
  const gzip = createGzip();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of (pack as unknown as Readable).pipe(gzip)) chunks.push(chunk as Buffer);
  })();
  for (const member of members) {
    await new Promise<void>((resolve, reject) => pack.entry({ name: member.name, mtime: MTIME }, Buffer.from(member.data), (e) => (e ? reject(e) : resolve())));
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}
