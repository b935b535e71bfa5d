import { TrainingError } from '../errors';
import { precisionThreshold, recommendThreshold, THRESHOLD_RESAMPLES } from './threshold';

describe('precisionThreshold', () => {
  it('picks the lowest confidence whose passed predictions reach the target precision', () => {
    // Sorted by confidence: 0.99 ok, 0.95 ok, 0.9 ok, 0.8 wrong, 0.7 ok, 0.6 wrong.
    const confidences = [0.6, 0.99, 0.8, 0.9, 0.7, 0.95];
    const correct = [false, true, false, true, true, true];
    expect(precisionThreshold(confidences, correct, 0.98)).toEqual({ value: 0.9, targetPrecision: 0.98, precision: 1, coverage: 0.5 });
    // At 0.75 precision, passing 0.7 (4 of 5 correct = 0.8) is allowed: the lowest qualifying threshold.
    expect(precisionThreshold(confidences, correct, 0.75)).toEqual({ value: 0.7, targetPrecision: 0.75, precision: 0.8, coverage: 5 / 6 });
  });

  it('passes everything when every prediction is right', () => {
    expect(precisionThreshold([0.55, 0.9, 0.7], [true, true, true])).toEqual({ value: 0.55, targetPrecision: 0.98, precision: 1, coverage: 1 });
  });

  it('treats tied confidences as one group', () => {
    // 0.9 is tied between a right and a wrong prediction: the pair passes or fails together.
    const r = precisionThreshold([0.95, 0.9, 0.9], [true, true, false], 0.98);
    expect(r).toEqual({ value: 0.95, targetPrecision: 0.98, precision: 1, coverage: 1 / 3 });
  });

  it('recommends 1 (pass nothing) when no threshold is precise enough', () => {
    const r = precisionThreshold([0.99, 0.8], [false, true], 0.98);
    expect(r.value).toBe(1);
    expect(r.coverage).toBe(0);
    expect(r.precision).toBe(0);
  });

  it('handles an empty validation set', () => {
    expect(precisionThreshold([], [])).toEqual({ value: 1, targetPrecision: 0.98, precision: 0, coverage: 0 });
  });
});

/** 200 validation predictions, confidences evenly from 0.999 down to 0.6, mistakes at the given ranks (0: most confident). */
function validationSet(mistakes: number[]) {
  const confidences = Array.from({ length: 200 }, (_, i) => 0.999 - (i * 0.399) / 199);
  return { confidences, correct: confidences.map((_, i) => !mistakes.includes(i)) };
}

describe('recommendThreshold (median over bootstrap resamples)', () => {
  const lowMistakes = [90, 130, 150, 160, 170, 180, 190];

  it('does not collapse when two of the mistakes happen to be among the most confident', () => {
    // The plain rule: 2 mistakes in the top 13 need 100 images passed to reach 0.98, and a third
    // mistake comes at rank 90, so it passes only the 3 images above the first mistake.
    const { confidences, correct } = validationSet([3, 12, ...lowMistakes]);
    const plain = precisionThreshold(confidences, correct);
    expect(plain.coverage).toBe(0.015);
    const recommended = recommendThreshold(confidences, correct);
    expect(recommended.coverage).toBeGreaterThan(0.3);
    expect(recommended.precision).toBeGreaterThan(0.97);
    expect(recommended.method).toBe(`median over ${THRESHOLD_RESAMPLES} bootstrap resamples of the lowest threshold reaching the target precision`);
  });

  it('agrees with the plain rule when the mistakes are where the confidence is low', () => {
    const { confidences, correct } = validationSet([3, ...lowMistakes]);
    const { method, ...recommended } = recommendThreshold(confidences, correct);
    expect(method).toMatch(/bootstrap/);
    expect(recommended).toEqual(precisionThreshold(confidences, correct));
  });

  it('is a function of the predictions alone, and one of their confidences', () => {
    const { confidences, correct } = validationSet([3, 12, ...lowMistakes]);
    const first = recommendThreshold(confidences, correct);
    expect(recommendThreshold(confidences, correct)).toEqual(first);
    expect(confidences).toContain(first.value);
  });

  it('recommends 1 when the model is not precise enough on most resamples', () => {
    const r = recommendThreshold([0.99, 0.98, 0.8], [false, false, true]);
    expect(r).toMatchObject({ value: 1, precision: 0, coverage: 0 });
  });

  it('is the plain rule with resamples: 0 or no predictions', () => {
    const { confidences, correct } = validationSet([3, 12, ...lowMistakes]);
    expect(recommendThreshold(confidences, correct, 0.98, { resamples: 0 })).toMatchObject(precisionThreshold(confidences, correct));
    expect(recommendThreshold([], [])).toMatchObject({ value: 1, coverage: 0 });
  });

  it('names what is wrong with its arguments', () => {
    expect(() => recommendThreshold([0.9], [true, false])).toThrow(new TrainingError('recommendThreshold: confidences (1) and correct (2) must have the same length'));
    expect(() => recommendThreshold([0.9], [true], 0.98, { resamples: -1 })).toThrow(new TrainingError('recommendThreshold: resamples must be a non-negative integer, got -1'));
    expect(() => recommendThreshold([0.9], [true], 0.98, { resamples: 1.5 })).toThrow(TrainingError);
  });
});
