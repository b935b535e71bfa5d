import { seededRandom } from '../random';

/**
 * A KLL quantiles sketch (Karnin, Lang & Liberty, 2016), the sketch Model Monitor's
 * statistics.json carries: compactors of geometrically shrinking capacity; when one overflows it
 * is sorted and every other item (from a random offset) moves up a level with twice the weight.
 * With `k` = 2048 and `c` = 0.64 (the parameters Model Monitor writes), up to 2048 values stay
 * exact in level 0. The offsets come from a seeded generator, so the same values in the same order
 * give the same sketch.
 */
export class KllSketch {
  private readonly compactors: number[][] = [[]];
  private count = 0;
  private readonly random: () => number;

  constructor(
    readonly k = 2048,
    readonly c = 0.64,
    seed = 0x6b6c6c,
  ) {
    this.random = seededRandom(seed);
  }

  get n(): number {
    return this.count;
  }

  private capacity(level: number): number {
    const depth = this.compactors.length - level - 1;
    return Math.max(2, Math.ceil(this.k * this.c ** depth));
  }

  update(value: number): void {
    this.compactors[0].push(value);
    this.count += 1;
    for (let level = 0; level < this.compactors.length; level++) {
      if (this.compactors[level].length < this.capacity(level)) continue;
      if (level + 1 === this.compactors.length) this.compactors.push([]);
      const items = this.compactors[level].sort((a, b) => a - b);
      const offset = this.random() < 0.5 ? 0 : 1;
      // An odd item stays behind: only pairs are compacted.
      const kept = items.length % 2 === 1 ? [items.pop() as number] : [];
      for (let i = offset; i < items.length; i += 2) this.compactors[level + 1].push(items[i]);
      this.compactors[level] = kept;
    }
  }

  /** The compactors, level 0 (weight 1) first: `data` of Model Monitor's `sketch`. */
  levels(): number[][] {
    return this.compactors.map((items) => [...items]);
  }

  /** Approximate rank quantile from the sketch (each item of level h counts 2^h). */
  quantile(p: number): number {
    const weighted: Array<[number, number]> = [];
    this.compactors.forEach((items, level) => items.forEach((v) => weighted.push([v, 2 ** level])));
    weighted.sort((a, b) => a[0] - b[0]);
    const total = weighted.reduce((s, [, w]) => s + w, 0);
    let seen = 0;
    for (const [v, w] of weighted) {
      seen += w;
      if (seen >= p * total) return v;
    }
    return weighted.at(-1)?.[0] ?? Number.NaN;
  }
}
