import { randomKeys, testCase } from './test-cases';

describe('test cases', () => {
  it('builds the starter event', () => {
    expect(testCase('scones', 'data/test/a.png')).toEqual({ image_data: '', s3_bucket: 'scones', s3_key: 'data/test/a.png' });
  });

  it('draws keys with replacement from the random source', () => {
    const draws = [0, 0.99, 0.5, 0.5];
    let i = 0;
    expect(randomKeys(['a', 'b', 'c'], 4, () => draws[i++])).toEqual(['a', 'c', 'b', 'b']);
  });

  it('covers every key over many draws and refuses nothing to draw from', () => {
    expect(new Set(randomKeys(['a', 'b', 'c'], 300)).size).toBe(3);
    expect(() => randomKeys([], 1)).toThrow(/no keys/);
    expect(() => randomKeys(['a'], -1)).toThrow(/count/);
  });
});
