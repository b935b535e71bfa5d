/**
 * A small seeded PRNG (mulberry32): the same seed gives the same shuffles, splits and
 * augmentations on every machine, which Math.random cannot.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** A seed for another generator (e.g. a layer's initializer), derived from this one. */
  seed(): number {
    return this.int(2 ** 31);
  }
}

/**
 * Splits item indices into train/validation, stratified by label: each class contributes
 * round(fraction × its count) items (at least one when it has two or more) to validation.
 */
export function stratifiedSplit(labels: readonly number[], fraction: number, random: Random): { train: number[]; validation: number[] } {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const list = byClass.get(label) ?? [];
    list.push(i);
    byClass.set(label, list);
  });
  const train: number[] = [];
  const validation: number[] = [];
  for (const [, members] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
    const indices = random.shuffle(members.slice());
    let take = Math.round(indices.length * fraction);
    if (fraction > 0 && take === 0 && indices.length >= 2) take = 1;
    validation.push(...indices.slice(0, take));
    train.push(...indices.slice(take));
  }
  return { train: train.sort((a, b) => a - b), validation: validation.sort((a, b) => a - b) };
}
