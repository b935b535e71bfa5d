import { KllSketch } from './kll-sketch';
import { seededRandom } from '../random';

describe('KllSketch', () => {
  it('keeps up to k values exactly, in level 0', () => {
    const sketch = new KllSketch(2048, 0.64);
    for (let i = 0; i < 2000; i++) sketch.update(i);
    const levels = sketch.levels();
    expect(levels).toHaveLength(1);
    expect(levels[0]).toHaveLength(2000);
    expect(sketch.quantile(0.5)).toBe(999);
  });

  it('compacts beyond that, keeping every quantile within 1 % of rank and the total weight', () => {
    const random = seededRandom(3);
    const sketch = new KllSketch(2048, 0.64);
    const values = Array.from({ length: 100_000 }, () => random());
    for (const v of values) sketch.update(v);
    const levels = sketch.levels();
    expect(levels.length).toBeGreaterThan(1);
    const weight = levels.reduce((sum, items, h) => sum + items.length * 2 ** h, 0);
    expect(Math.abs(weight - 100_000)).toBeLessThan(2 ** levels.length);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [0.01, 0.1, 0.5, 0.9, 0.99]) {
      const estimate = sketch.quantile(p);
      const rank = sorted.findIndex((v) => v >= estimate) / sorted.length;
      expect(Math.abs(rank - p)).toBeLessThan(0.01);
    }
  });

  it('gives the same sketch for the same values in the same order', () => {
    const fill = () => {
      const s = new KllSketch(64, 0.64);
      for (let i = 0; i < 5000; i++) s.update((i * 7919) % 5000);
      return s.levels();
    };
    expect(fill()).toEqual(fill());
  });
});
