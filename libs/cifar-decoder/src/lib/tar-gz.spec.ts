import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ArchiveReadError, CorruptArchiveError, NotGzipError, NotTarError, TruncatedArchiveError } from '../errors';
import { tarGz } from './fixture-archive';
import { readTarGz } from './tar-gz';
import { scratch } from '../../test/archives';

/** Reads every member into memory; `worker` picks the decompression path for files. */
async function members(source: string | Readable, worker = true): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  await readTarGz(source, {
    worker,
    onMember(name) {
      const chunks: Buffer[] = [];
      return { data: (c) => chunks.push(Buffer.from(c)), end: () => void found.set(name, Buffer.concat(chunks)) };
    },
  });
  return found;
}

describe('readTarGz', () => {
  jest.setTimeout(60_000);
  let dir: { dir: string; remove(): Promise<void> };
  let archive: Buffer;
  const big = Buffer.from(Uint8Array.from({ length: 3 * 1024 * 1024 + 123 }, (_, i) => (i * 31 + (i >> 12)) % 256));
  beforeAll(async () => {
    dir = await scratch('targz-');
    archive = await tarGz([
      { name: 'd/a.txt', data: Buffer.from('hello') },
      { name: 'd/big.bin', data: big },
      { name: 'd/empty', data: Buffer.alloc(0) },
    ]);
  });
  afterAll(() => dir.remove());

  const file = async (name: string, bytes: Uint8Array) => {
    const path = join(dir.dir, name);
    await writeFile(path, bytes);
    return path;
  };

  it.each([
    ['a file, on a worker thread', true],
    ['a file, on this thread', false],
  ])('streams the members of %s', async (_, worker) => {
    const found = await members(await file(`ok-${worker}.tar.gz`, archive), worker);
    expect([...found.keys()]).toEqual(['d/a.txt', 'd/big.bin', 'd/empty']);
    expect(found.get('d/a.txt')!.toString()).toBe('hello');
    expect(found.get('d/big.bin')!.equals(big)).toBe(true);
  });

  it('streams a Readable and reports compressed progress', async () => {
    let progress = 0;
    const found = new Map<string, number>();
    await readTarGz(Readable.from([archive.subarray(0, 1000), archive.subarray(1000)]), {
      onProgress: (bytes) => (progress = bytes),
      onMember: (name, size) => (found.set(name, size), undefined),
    });
    expect(progress).toBe(archive.length);
    expect(found.get('d/big.bin')).toBe(big.length);
  });

  it.each([true, false])('says when the file is not gzip (worker: %s)', async (worker) => {
    const path = await file(`plain-${worker}.tar`, Buffer.from('plain tar, not gzip'));
    await expect(members(path, worker)).rejects.toThrow(new NotGzipError(`${path}: not a gzip file (starts with 706c6169; expected 1f8b, a .tar.gz)`));
    const empty = await file(`empty-${worker}.tar.gz`, Buffer.alloc(0));
    await expect(members(empty, worker)).rejects.toThrow(new NotGzipError(`${empty}: the file is empty (expected a .tar.gz)`));
  });

  it.each([true, false])('says when the archive is truncated (worker: %s)', async (worker) => {
    const path = await file(`cut-${worker}.tar.gz`, archive.subarray(0, Math.floor(archive.length / 2)));
    await expect(members(path, worker)).rejects.toThrow(new TruncatedArchiveError(`${path}: the gzip stream ends early (truncated download?)`));
  });

  it.each([true, false])('says when the gzip data is corrupt (worker: %s)', async (worker) => {
    const damaged = Buffer.from(archive);
    damaged[damaged.length - 6] ^= 0xff; // inside the CRC32 trailer
    const path = await file(`crc-${worker}.tar.gz`, damaged);
    await expect(members(path, worker)).rejects.toThrow(CorruptArchiveError);
    await expect(members(path, worker)).rejects.toThrow(/gzip data is corrupt: incorrect data check/);
  });

  it.each([true, false])('says what a gzip file holds when it is not a tar archive (worker: %s)', async (worker) => {
    const cases: Array<[string, Buffer, string]> = [
      ['text', gzipSync('hello world, this is not a tar archive\n'), 'text starting "hello world, this is not" (39 bytes)'],
      ['pickle', gzipSync(Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.alloc(4000, 1)])), 'a Python pickle (protocol 2), not a tar archive of pickles'],
      ['binary', gzipSync(Buffer.alloc(1024, 7)), 'data starting with 0707070707070707'],
      ['twice', gzipSync(archive), 'another gzip stream (compressed twice?)'],
      ['empty', gzipSync(Buffer.alloc(0)), 'nothing (an empty gzip stream)'],
    ];
    for (const [name, bytes, holds] of cases) {
      const path = await file(`${name}-${worker}.gz`, bytes);
      await expect(members(path, worker)).rejects.toThrow(
        new NotTarError(`${path}: a gzip file, but not a tar archive: it holds ${holds}; expected cifar-100-python.tar.gz, a gzipped tar archive`),
      );
    }
  });

  it('says when a tar is cut short inside the gzip', async () => {
    const tar = gunzipSync(archive);
    const cut = gzipSync(tar.subarray(0, 2048)); // valid gzip, the tar ends inside big.bin
    await expect(members(Readable.from([cut]))).rejects.toThrow(new TruncatedArchiveError('archive: the tar archive ends inside a member (truncated?)'));
  });

  it.each([true, false])('names a missing file (worker: %s)', async (worker) => {
    const path = join(dir.dir, 'nope.tar.gz');
    await expect(members(path, worker)).rejects.toThrow(new ArchiveReadError(`cannot read ${path}: no such file`));
  });

  it('stops when the signal aborts, and when a sink throws', async () => {
    const path = await file('abort.tar.gz', archive);
    const controller = new AbortController();
    const reason = new Error('stop');
    await expect(
      readTarGz(path, {
        signal: controller.signal,
        onMember: () => ({ data: () => controller.abort(reason), end: () => undefined }),
      }),
    ).rejects.toBe(reason);
    const failure = new Error('bad member');
    await expect(
      readTarGz(path, {
        onMember: () => ({
          data: () => undefined,
          end: () => {
            throw failure;
          },
        }),
      }),
    ).rejects.toBe(failure);
  });
});
