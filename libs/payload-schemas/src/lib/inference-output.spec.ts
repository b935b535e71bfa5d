import { inferenceOutputSchema } from './inference-output';
import { parseJsonOrThrow, parseOrThrow } from './parse';

describe('inferenceOutputSchema', () => {
  it('accepts the JSON array the endpoint answers', () => {
    expect(parseJsonOrThrow(inferenceOutputSchema, '[0.9813, 0.0187]', 'endpoint output')).toEqual([0.9813, 0.0187]);
    expect(parseOrThrow(inferenceOutputSchema, [0.1, 0.2, 0.7], 'endpoint output')).toHaveLength(3);
  });

  it('rejects anything else', () => {
    expect(() => parseOrThrow(inferenceOutputSchema, { predictions: [0.5, 0.5] }, 'endpoint output')).toThrow('endpoint output: expected a JSON array of class probabilities');
    expect(() => parseOrThrow(inferenceOutputSchema, [1], 'endpoint output')).toThrow('at least two');
    expect(() => parseOrThrow(inferenceOutputSchema, [1.2, -0.2], 'endpoint output')).toThrow(/\[0\]: expected a probability <= 1/);
    expect(() => parseOrThrow(inferenceOutputSchema, [0.5, 0.2], 'endpoint output')).toThrow('sum to 1');
    expect(() => parseJsonOrThrow(inferenceOutputSchema, 'Internal Server Error', 'endpoint output')).toThrow(/not valid JSON/);
  });
});
