import { PayloadValidationError } from '../errors';
import { formatLst, parseLst } from './lst';

describe('.lst manifests', () => {
  it('round-trips rows in the SageMaker format', () => {
    const rows = [
      { row: 0, label: 0, path: 'bicycle_s_000017.png' },
      { row: 16, label: 1, path: 'motorcycle_s_000022.png' },
    ];
    const text = formatLst(rows);
    expect(text).toBe('0\t0\tbicycle_s_000017.png\n16\t1\tmotorcycle_s_000022.png\n');
    expect(parseLst(text)).toEqual(rows);
  });

  it('accepts float labels and blank lines', () => {
    expect(parseLst('3\t1.000000\ta.png\n\n')).toEqual([{ row: 3, label: 1, path: 'a.png' }]);
  });

  it('names the file and line of a bad row', () => {
    expect(() => parseLst('0\t0\ta.png\n1\tx\tb.png\n', 'data/train.lst')).toThrow('data/train.lst line 2: label: expected an integer class label, got "x"');
    expect(() => parseLst('0 0 a.png', 'data/test.lst')).toThrow('data/test.lst line 1: expected 3 tab-separated fields (row, label, path), got 1');
    expect(() => parseLst('0\t0\t../etc/passwd', 'x.lst')).toThrow(PayloadValidationError);
  });
});
