import { formatThreshold } from './format';

describe('formatThreshold', () => {
  it('shows 4 decimals, and more rather than round a value below 1 up to 1', () => {
    expect(formatThreshold(0.83)).toBe('0.8300');
    expect(formatThreshold(0.98206776)).toBe('0.9821');
    expect(formatThreshold(0.99995327)).toBe('0.99995');
    expect(formatThreshold(0.9999999)).toBe('0.9999999');
    expect(formatThreshold(1)).toBe('1.0000');
  });
});
