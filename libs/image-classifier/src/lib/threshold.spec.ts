import { recommendThreshold } from './threshold';

describe('recommendThreshold', () => {
  it('picks the lowest confidence whose passed predictions reach the target precision', () => {
    // Sorted by confidence: 0.99 ok, 0.95 ok, 0.9 ok, 0.8 wrong, 0.7 ok, 0.6 wrong.
    const confidences = [0.6, 0.99, 0.8, 0.9, 0.7, 0.95];
    const correct = [false, true, false, true, true, true];
    expect(recommendThreshold(confidences, correct, 0.98)).toEqual({ value: 0.9, targetPrecision: 0.98, precision: 1, coverage: 0.5 });
    // At 0.75 precision, passing 0.7 (4 of 5 correct = 0.8) is allowed: the lowest qualifying threshold.
    expect(recommendThreshold(confidences, correct, 0.75)).toEqual({ value: 0.7, targetPrecision: 0.75, precision: 0.8, coverage: 5 / 6 });
  });

  it('passes everything when every prediction is right', () => {
    expect(recommendThreshold([0.55, 0.9, 0.7], [true, true, true])).toEqual({ value: 0.55, targetPrecision: 0.98, precision: 1, coverage: 1 });
  });

  it('treats tied confidences as one group', () => {
    // 0.9 is tied between a right and a wrong prediction: the pair passes or fails together.
    const r = recommendThreshold([0.95, 0.9, 0.9], [true, true, false], 0.98);
    expect(r).toEqual({ value: 0.95, targetPrecision: 0.98, precision: 1, coverage: 1 / 3 });
  });

  it('recommends 1 (pass nothing) when no threshold is precise enough', () => {
    const r = recommendThreshold([0.99, 0.8], [false, true], 0.98);
    expect(r.value).toBe(1);
    expect(r.coverage).toBe(0);
    expect(r.precision).toBe(0);
  });

  it('handles an empty validation set', () => {
    expect(recommendThreshold([], [])).toEqual({ value: 1, targetPrecision: 0.98, precision: 0, coverage: 0 });
  });
});
