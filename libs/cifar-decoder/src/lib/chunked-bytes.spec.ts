import { ChunkedBytes } from './chunked-bytes';

describe('ChunkedBytes', () => {
  const whole = Uint8Array.from({ length: 100 }, (_, i) => i);
  const chunked = new ChunkedBytes();
  for (const [a, b] of [
    [0, 10],
    [10, 10], // empty chunks are ignored
    [10, 55],
    [55, 56],
    [56, 100],
  ]) {
    chunked.append(whole.subarray(a, b));
  }

  it('gives views inside one chunk and copies across chunks', () => {
    expect(chunked.length).toBe(100);
    const inside = chunked.range(12, 20);
    expect(Array.from(inside)).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
    expect(inside.buffer).toBe(whole.buffer); // a view
    const across = chunked.range(5, 60);
    expect(Array.from(across)).toEqual(Array.from(whole.subarray(5, 60)));
    expect(across.buffer).not.toBe(whole.buffer); // joined
    expect(chunked.range(0, 100)).toEqual(whole);
    expect(chunked.range(7, 7).length).toBe(0);
  });

  it('finds the chunk of any position', () => {
    expect([0, 9, 10, 54, 55, 56, 99].map((p) => chunked.chunkAt(chunked.chunkIndex(p)).start)).toEqual([0, 0, 10, 10, 55, 56, 56]);
  });

  it('releases whole chunks inside a range, in order, and refuses to read them after', () => {
    const bytes = new ChunkedBytes();
    for (let i = 0; i < 10; i++) bytes.append(whole.subarray(i * 10, i * 10 + 10));
    bytes.release(15, 52); // chunks 20..29, 30..39, 40..49 lie wholly inside
    expect(bytes.released).toBe(30);
    expect(Array.from(bytes.range(10, 15))).toEqual([10, 11, 12, 13, 14]);
    expect(Array.from(bytes.range(50, 52))).toEqual([50, 51]);
    expect(() => bytes.range(18, 22)).toThrow('bytes 18..22 were released');
    bytes.release(15, 80);
    expect(bytes.released).toBe(60);
  });

  it('refuses ranges outside what has arrived', () => {
    expect(() => chunked.range(90, 101)).toThrow('bytes 90..101 are outside 0..100');
    expect(() => chunked.range(5, 4)).toThrow(RangeError);
  });
});
