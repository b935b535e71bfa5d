import { compareKeys } from './names';

/** What a listing shows of an object. */
export interface IndexEntry {
  size: number;
  /** Without quotes. */
  etag: string;
  /** ms since the epoch. */
  lastModified: number;
  checksumAlgorithm?: string;
  checksumType?: string;
  storageClass?: string;
}

/**
 * The keys of one bucket in S3's order, so a listing is a binary search and a walk, never a
 * directory scan. Writes are O(1): new keys wait in `added` and deletions are left in `sorted`
 * until the next read merges them (sorting only the few new keys), so staging thousands of
 * objects does not re-sort or shift the array for each one.
 */
export class KeyIndex {
  private readonly entries = new Map<string, IndexEntry>();
  private sorted: string[] = [];
  private added: string[] = [];
  private removed = 0;
  private bytes = 0;
  /**
   * True while no key has a UTF-16 unit at or above U+D800: then JavaScript's native string order
   * is already S3's (code point) order, and sorting and searching use it (about 10× faster).
   */
  private nativeOrder = true;

  /** Orders keys as S3 lists them. */
  readonly compare = (a: string, b: string): number => (this.nativeOrder ? (a < b ? -1 : a > b ? 1 : 0) : compareKeys(a, b));

  /**
   * An index from entries already in S3 order (a snapshot written by this class's order); falls
   * back to sorting when they are not.
   */
  static fromSorted(entries: ReadonlyArray<readonly [string, IndexEntry]>): KeyIndex {
    const index = new KeyIndex();
    let inOrder = true;
    for (const [key, entry] of entries) {
      if (index.nativeOrder && HIGH_UNITS.test(key)) index.nativeOrder = false;
      index.entries.set(key, entry);
      index.bytes += entry.size;
      index.sorted.push(key);
    }
    for (let i = 1; i < index.sorted.length && inOrder; i++) inOrder = index.compare(index.sorted[i - 1], index.sorted[i]) < 0;
    if (!inOrder || index.entries.size !== index.sorted.length) {
      index.added = [...index.entries.keys()];
      index.sorted = [];
    }
    return index;
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get(key: string): IndexEntry | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: IndexEntry): void {
    const previous = this.entries.get(key);
    if (previous) this.bytes -= previous.size;
    else {
      this.added.push(key);
      if (this.nativeOrder && HIGH_UNITS.test(key)) {
        // From now on the native order would be wrong: re-sort everything by code point.
        this.nativeOrder = false;
        this.added = [...this.entries.keys(), key];
        this.sorted = [];
        this.removed = 0;
      }
    }
    this.entries.set(key, entry);
    this.bytes += entry.size;
  }

  delete(key: string): void {
    const previous = this.entries.get(key);
    if (!previous) return;
    this.entries.delete(key);
    this.bytes -= previous.size;
    this.removed++;
  }

  /** Every key, in S3 order (the array is shared: do not modify it). */
  keys(): readonly string[] {
    if (this.added.length || this.removed) this.merge();
    return this.sorted;
  }

  private merge(): void {
    const live = this.removed ? this.sorted.filter((k) => this.entries.has(k)) : this.sorted;
    // A key can be in `added` twice (put, delete, put) or also in `sorted` (deleted, then put again).
    const fresh = [...new Set(this.added)].filter((k) => this.entries.has(k)).sort(this.compare);
    const merged: string[] = new Array(live.length + fresh.length);
    let i = 0;
    let j = 0;
    let n = 0;
    while (i < live.length || j < fresh.length) {
      if (j >= fresh.length) merged[n++] = live[i++];
      else if (i >= live.length) merged[n++] = fresh[j++];
      else {
        const order = this.compare(live[i], fresh[j]);
        if (order < 0) merged[n++] = live[i++];
        else if (order > 0) merged[n++] = fresh[j++];
        else {
          merged[n++] = live[i++];
          j++;
        }
      }
    }
    merged.length = n;
    this.sorted = merged;
    this.added = [];
    this.removed = 0;
  }
}

const HIGH_UNITS = /[\ud800-\uffff]/;

/** Index of the first key in `keys` that is not less than `target` (`keys.length` if none). */
export function lowerBound(keys: readonly string[], target: string, compare: (a: string, b: string) => number = compareKeys, from = 0): number {
  let lo = from;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(keys[mid], target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first key in `keys` greater than `target`. */
export function upperBound(keys: readonly string[], target: string, compare: (a: string, b: string) => number = compareKeys, from = 0): number {
  let lo = from;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(keys[mid], target) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first key from `from` on that does not start with `prefix` (keys with a prefix are contiguous). */
export function endOfPrefix(keys: readonly string[], prefix: string, from: number): number {
  let lo = from;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid].startsWith(prefix)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
