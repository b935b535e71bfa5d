import { computeBaseline } from './baseline';
import { argMax, evaluate } from './evaluation';

describe('evaluate', () => {
  it('computes accuracy, the confusion matrix, per-class precision/recall and loss', () => {
    const p = [
      [0.9, 0.1],
      [0.3, 0.7],
      [0.2, 0.8],
      [0.6, 0.4],
    ];
    const e = evaluate(p, [0, 0, 1, 1], 2);
    expect(e.accuracy).toBe(0.5);
    expect(e.confusionMatrix).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(e.precision).toEqual([0.5, 0.5]);
    expect(e.recall).toEqual([0.5, 0.5]);
    expect(e.loss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.3) + Math.log(0.8) + Math.log(0.4)) / 4, 10);
  });

  it('reports 0 precision for a class never predicted and 0 recall for a class never seen', () => {
    const e = evaluate([[0.9, 0.05, 0.05]], [0], 3);
    expect(e.precision).toEqual([1, 0, 0]);
    expect(e.recall).toEqual([1, 0, 0]);
  });

  it('argMax takes the first maximum', () => {
    expect(argMax([0.5, 0.5])).toBe(0);
    expect(argMax([0.1, 0.2, 0.7])).toBe(2);
  });
});

describe('computeBaseline', () => {
  it('collects confidences, predicted class counts and per-image brightness', () => {
    const dark = { width: 1, height: 1, data: Uint8Array.from([0, 51, 255]) };
    const b = computeBaseline([dark, dark], [[0.8, 0.2], [0.3, 0.7]], 2);
    expect(b).toEqual({ count: 2, confidences: [0.8, 0.7], predictedClassCounts: [1, 1], brightness: { r: [0, 0], g: [0.2, 0.2], b: [1, 1] }, imageSizes: { '1x1': 2 } });
  });
});
