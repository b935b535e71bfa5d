import { Random, stratifiedSplit } from './random';

describe('Random', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = Array.from({ length: 5 }, () => new Random(1)).map((r) => r.next());
    expect(new Set(a).size).toBe(1);
    const r1 = new Random(1);
    const r2 = new Random(2);
    expect([r1.next(), r1.next()]).not.toEqual([r2.next(), r2.next()]);
  });

  it('stays in range', () => {
    const r = new Random(5);
    for (let i = 0; i < 1000; i++) {
      const v = r.next();
      expect(v >= 0 && v < 1).toBe(true);
      expect(r.int(3)).toBeLessThan(3);
    }
  });

  it('shuffles to a permutation', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = new Random(9).shuffle(items.slice());
    expect(shuffled).not.toEqual(items);
    expect(shuffled.slice().sort((a, b) => a - b)).toEqual(items);
  });
});

describe('stratifiedSplit', () => {
  it('holds out the same share of every class, disjoint from training', () => {
    const labels = [...new Array(500).fill(0), ...new Array(500).fill(1), ...new Array(30).fill(2)];
    const { train, validation } = stratifiedSplit(labels, 0.1, new Random(42));
    const count = (ids: number[], c: number) => ids.filter((i) => labels[i] === c).length;
    expect([count(validation, 0), count(validation, 1), count(validation, 2)]).toEqual([50, 50, 3]);
    expect(train.length + validation.length).toBe(labels.length);
    expect(new Set([...train, ...validation]).size).toBe(labels.length);
  });

  it('keeps at least one image of a small class for validation', () => {
    const { validation } = stratifiedSplit([0, 0, 0, 1, 1], 0.1, new Random(1));
    expect(validation.length).toBe(2);
  });

  it('is deterministic for a seed', () => {
    const labels = Array.from({ length: 100 }, (_, i) => i % 2);
    expect(stratifiedSplit(labels, 0.2, new Random(4))).toEqual(stratifiedSplit(labels, 0.2, new Random(4)));
    expect(stratifiedSplit(labels, 0.2, new Random(4))).not.toEqual(stratifiedSplit(labels, 0.2, new Random(5)));
  });
});
