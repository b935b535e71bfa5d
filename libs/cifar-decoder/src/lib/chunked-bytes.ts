/**
 * Bytes kept in the chunks they arrived in (from the decompressor), with random access. A
 * 150 MB member is never joined into one buffer: a range inside one chunk is a view, and only a
 * range that crosses chunks is copied (a 3072-byte row now and then, or all of it if a caller
 * really asks for one contiguous array).
 */
const RELEASED = new Uint8Array(0);

export class ChunkedBytes {
  private readonly chunks: Uint8Array[] = [];
  /** Offset of each chunk in the whole. */
  private readonly starts: number[] = [];
  private filled = 0;
  private releasedBytes = 0;
  /** Chunks before this index have been considered for release. */
  private releaseCursor = 0;

  /** One buffer as a single chunk. */
  static of(bytes: Uint8Array): ChunkedBytes {
    const whole = new ChunkedBytes();
    whole.append(bytes);
    return whole;
  }

  /** Bytes dropped by {@link release}. */
  get released(): number {
    return this.releasedBytes;
  }

  /**
   * Drops the chunks that lie wholly inside [start, end), in order: later calls continue where
   * the last one stopped. Reading a dropped byte afterwards throws.
   */
  release(start: number, end: number): void {
    for (; this.releaseCursor < this.chunks.length; this.releaseCursor++) {
      const from = this.starts[this.releaseCursor];
      const chunk = this.chunks[this.releaseCursor];
      if (from + chunk.length > end) return;
      if (from >= start && chunk !== RELEASED) {
        this.releasedBytes += chunk.length;
        this.chunks[this.releaseCursor] = RELEASED;
      }
    }
  }

  /** Bytes received so far. */
  get length(): number {
    return this.filled;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.starts.push(this.filled);
    this.chunks.push(chunk);
    this.filled += chunk.length;
  }

  /** Index of the chunk holding byte `position` (position < length). */
  chunkIndex(position: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= position) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  chunkAt(index: number): { bytes: Uint8Array; start: number } {
    return { bytes: this.chunks[index], start: this.starts[index] };
  }

  /** Bytes [start, end): a view when they lie in one chunk, otherwise a copy. */
  range(start: number, end: number): Uint8Array {
    if (start < 0 || end > this.filled || start > end) throw new RangeError(`bytes ${start}..${end} are outside 0..${this.filled}`);
    if (start === end) return new Uint8Array(0);
    let index = this.chunkIndex(start);
    for (let i = index; i < this.chunks.length && this.starts[i] < end; i++) {
      if (this.chunks[i] === RELEASED) throw new RangeError(`bytes ${start}..${end} were released`);
    }
    const first = this.chunks[index];
    const offset = start - this.starts[index];
    if (offset + (end - start) <= first.length) return first.subarray(offset, offset + (end - start));
    const out = new Uint8Array(end - start);
    let written = 0;
    let from = offset;
    while (written < out.length) {
      const chunk = this.chunks[index++];
      const take = Math.min(chunk.length - from, out.length - written);
      out.set(chunk.subarray(from, from + take), written);
      written += take;
      from = 0;
    }
    return out;
  }
}
