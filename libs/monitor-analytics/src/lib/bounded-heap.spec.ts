import { BoundedHeap } from './bounded-heap';
import { seededRandom } from './synthetic-traffic';

describe('BoundedHeap', () => {
  it('keeps the k smallest of a stream, whatever the order', () => {
    const random = seededRandom(5);
    const values = Array.from({ length: 1000 }, () => random());
    const heap = new BoundedHeap<number>(10, (a, b) => a - b);
    for (const v of values) heap.push(v);
    expect(heap.sorted()).toEqual([...values].sort((a, b) => a - b).slice(0, 10));
    expect(heap.size).toBe(10);
  });
  it('says whether an item would be kept, and keeps nothing with capacity 0', () => {
    const heap = new BoundedHeap<number>(2, (a, b) => a - b);
    heap.push(5);
    heap.push(3);
    expect(heap.accepts(4)).toBe(true);
    expect(heap.accepts(6)).toBe(false);
    const none = new BoundedHeap<number>(0, (a, b) => a - b);
    none.push(1);
    expect(none.sorted()).toEqual([]);
  });
});
