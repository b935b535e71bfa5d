/**
 * Keeps the `capacity` smallest items by `compare` seen so far, in O(log capacity) per item and
 * O(capacity) memory: how the analyzer holds the lowest-confidence inputs, the most recent ones
 * and the image sample while streaming any number of records.
 */
export class BoundedHeap<T> {
  // A max-heap on `compare`: the root is the largest kept item, the first to be evicted.
  private readonly items: T[] = [];

  constructor(
    private readonly capacity: number,
    private readonly compare: (a: T, b: T) => number,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Whether an item would be kept, without building it (avoids work for items that are not). */
  accepts(probe: T): boolean {
    if (this.capacity <= 0) return false;
    return this.items.length < this.capacity || this.compare(probe, this.items[0]) < 0;
  }

  push(item: T): void {
    if (!this.accepts(item)) return;
    if (this.items.length < this.capacity) {
      this.items.push(item);
      this.siftUp(this.items.length - 1);
    } else {
      this.items[0] = item;
      this.siftDown(0);
    }
  }

  /** The kept items, smallest first. */
  sorted(): T[] {
    return [...this.items].sort(this.compare);
  }

  private siftUp(index: number): void {
    const items = this.items;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.compare(items[index], items[parent]) <= 0) return;
      [items[index], items[parent]] = [items[parent], items[index]];
      index = parent;
    }
  }

  private siftDown(index: number): void {
    const items = this.items;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let largest = index;
      if (left < items.length && this.compare(items[left], items[largest]) > 0) largest = left;
      if (right < items.length && this.compare(items[right], items[largest]) > 0) largest = right;
      if (largest === index) return;
      [items[index], items[largest]] = [items[largest], items[index]];
      index = largest;
    }
  }
}
