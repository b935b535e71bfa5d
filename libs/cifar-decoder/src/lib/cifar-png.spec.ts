import { PNG } from 'pngjs';
import { encodeCifarRowPng } from './cifar-png';
import { fixturePixels } from './fixture-archive';

describe('encodeCifarRowPng', () => {
  const rows = [fixturePixels('train', 0), fixturePixels('train', 1), new Uint8Array(3072).fill(255)];
  const data = new Uint8Array(rows.length * 3072);
  rows.forEach((r, i) => data.set(r, i * 3072));

  it.each([0, 1, 2])('encodes planar row %i as a 32x32 RGB PNG with the same pixels', (row) => {
    const png = PNG.sync.read(encodeCifarRowPng(data, row)); // pngjs checks CRCs and zlib data
    expect([png.width, png.height]).toEqual([32, 32]);
    const planar = rows[row];
    for (let i = 0; i < 1024; i++) {
      expect([png.data[i * 4], png.data[i * 4 + 1], png.data[i * 4 + 2]]).toEqual([planar[i], planar[1024 + i], planar[2048 + i]]);
    }
  });

  it('writes an 8-bit RGB header (colour type 2)', () => {
    const bytes = encodeCifarRowPng(data, 0);
    expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20), bytes[24], bytes[25]]).toEqual([32, 32, 8, 2]);
    expect(bytes.subarray(bytes.length - 8, bytes.length - 4).toString('latin1')).toBe('IEND');
  });

  it('is deterministic', () => {
    expect(encodeCifarRowPng(data, 1).equals(encodeCifarRowPng(data, 1))).toBe(true);
  });

  it('refuses a row outside the array', () => {
    expect(() => encodeCifarRowPng(data, 3)).toThrow('row 3 is outside the array (3 rows)');
    expect(() => encodeCifarRowPng(data, -1)).toThrow(RangeError);
  });
});
