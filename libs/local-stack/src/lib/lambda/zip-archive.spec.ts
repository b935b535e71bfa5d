import { deflateRawSync } from 'node:zlib';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractZip, readZipDirectory, ZIP_LIMITS, ZipArchiveError } from './zip-archive';
import { zipPackage } from './testing';

/** Offsets of the central directory entry of the first file of a zip (see readZipDirectory). */
function centralEntryOffset(zip: Buffer): number {
  for (let at = zip.length - 22; at >= 0; at--) if (zip.readUInt32LE(at) === 0x06054b50) return zip.readUInt32LE(at + 16);
  throw new Error('no end of central directory');
}

describe('zip archives (deployment packages)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scones-zip-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('extracts files and directories with their executable bit', async () => {
    const zip = zipPackage({ 'lambda_function.py': 'x = 1\n', 'pkg/__init__.py': '', 'pkg/sub/mod.py': 'y = 2\n', 'bin/tool': { data: '#!/bin/sh\n', mode: 0o755 } });
    const entries = readZipDirectory(zip);
    expect(entries.map((e) => e.name).sort()).toEqual(['bin/tool', 'lambda_function.py', 'pkg/__init__.py', 'pkg/sub/mod.py']);
    const target = join(dir, 'out');
    await extractZip(zip, entries, target);
    expect(await readFile(join(target, 'pkg/sub/mod.py'), 'utf8')).toBe('y = 2\n');
    expect((await stat(join(target, 'bin/tool'))).mode & 0o111).toBe(0o111);
    expect((await stat(join(target, 'lambda_function.py'))).mode & 0o111).toBe(0);
  });

  it.each([
    ['../evil.py', /points outside the package/],
    ['a/../../evil.py', /points outside the package/],
    ['..\\evil.py', /points outside the package/],
    ['/etc/cron.d/evil', /absolute path/],
    ['C:/evil.py', /absolute path/],
  ])('refuses the entry %s and names it', (name, message) => {
    const zip = zipPackage({ 'lambda_function.py': 'x = 1\n', [name]: 'boom' });
    expect(() => readZipDirectory(zip)).toThrow(ZipArchiveError);
    expect(() => readZipDirectory(zip)).toThrow(message);
    expect(() => readZipDirectory(zip)).toThrow(name);
  });

  it('refuses symbolic links', () => {
    const zip = zipPackage({ 'lambda_function.py': 'x = 1\n', 'link.py': { data: '/etc/passwd', symlink: true } });
    expect(() => readZipDirectory(zip)).toThrow(/entry "link.py" is a symbolic link/);
  });

  it('refuses what is not a zip, and a truncated zip', () => {
    expect(() => readZipDirectory(Buffer.from('print("hello")\n'))).toThrow(/not a \.zip archive/);
    const zip = zipPackage({ 'lambda_function.py': 'x = 1\n'.repeat(100) });
    expect(() => readZipDirectory(zip.subarray(0, zip.length - 30))).toThrow(/truncated|damaged|not a complete/);
  });

  it('refuses entries that declare more than Lambda unzips (250 MB)', () => {
    const zip = zipPackage({ 'a.bin': 'a', 'b.bin': 'b' });
    // Lie in the central directory: the first entry claims 200 MB, the second one as well.
    let at = centralEntryOffset(zip);
    for (let i = 0; i < 2; i++) {
      zip.writeUInt32LE(200 * 1024 * 1024, at + 24);
      at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    }
    expect(() => readZipDirectory(zip)).toThrow(`Unzipped size must be smaller than ${ZIP_LIMITS.unzippedBytes} bytes`);
  });

  it('refuses an entry that inflates to more than it declares (zip bomb) without writing anything', async () => {
    // 8 MB of zeros deflate to a few KB; the entry claims 1 KB.
    const zip = zipPackage({ 'lambda_function.py': 'x = 1\n' });
    const bomb = deflateRawSync(Buffer.alloc(8 * 1024 * 1024));
    const forged = forgeSingleEntry('bomb.bin', bomb, 1024);
    const entries = readZipDirectory(forged);
    const target = join(dir, 'out');
    await expect(extractZip(forged, entries, target)).rejects.toThrow(/entry "bomb.bin" inflates to more than the 1024 bytes it declares/);
    expect(await readdir(dir)).toEqual([]);
    expect(readZipDirectory(zip)).toHaveLength(1);
  });

  it('refuses encrypted entries and duplicate names', () => {
    const zip = zipPackage({ 'lambda_function.py': 'x = 1\n' });
    const at = centralEntryOffset(zip);
    zip.writeUInt16LE(zip.readUInt16LE(at + 8) | 1, at + 8);
    expect(() => readZipDirectory(zip)).toThrow(/is encrypted/);
    const twice = forgeEntries([
      ['a.py', deflateRawSync(Buffer.from('1')), 1],
      ['a.py', deflateRawSync(Buffer.from('2')), 1],
    ]);
    expect(() => readZipDirectory(twice)).toThrow(/entry "a.py" appears more than once/);
  });

  it('refuses a file and a directory at the same path, leaving nothing behind', async () => {
    const zip = forgeEntries([
      ['a', deflateRawSync(Buffer.from('1')), 1],
      ['a/b.py', deflateRawSync(Buffer.from('2')), 1],
    ]);
    const target = join(dir, 'out');
    await expect(extractZip(zip, readZipDirectory(zip), target)).rejects.toThrow(ZipArchiveError);
    expect(await readdir(dir)).toEqual([]);
  });
});

/** A zip with one deflated entry whose central directory declares `declaredSize` (CRC left 0). */
function forgeSingleEntry(name: string, deflated: Buffer, declaredSize: number): Buffer {
  return forgeEntries([[name, deflated, declaredSize]]);
}

function forgeEntries(entries: Array<[name: string, deflated: Buffer, declaredSize: number]>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, deflated, declaredSize] of entries) {
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(deflated.length, 18);
    local.writeUInt32LE(declaredSize, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(deflated.length, 20);
    central.writeUInt32LE(declaredSize, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, deflated);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + deflated.length;
  }
  const centralDirectory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDirectory, end]);
}
