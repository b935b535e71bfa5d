import { InvalidArgumentError } from 'commander';
import { decimal, duration, integer } from './options';

describe('option parsers', () => {
  it('parse integers within bounds and name the problem otherwise', () => {
    expect(integer(1, 10)('3')).toBe(3);
    expect(() => integer(1, 10)('0')).toThrow(new InvalidArgumentError('expected an integer between 1 and 10, got "0"'));
    expect(() => integer()('1.5')).toThrow(InvalidArgumentError);
  });
  it('parse decimals', () => {
    expect(decimal(0, 1)('0.25')).toBe(0.25);
    expect(() => decimal(0, 1)('')).toThrow(InvalidArgumentError);
    expect(() => decimal(0, 1)('2')).toThrow('expected a number between 0 and 1, got "2"');
  });
  it('parse durations', () => {
    expect(duration('250ms')).toBe(250);
    expect(duration('30s')).toBe(30_000);
    expect(duration('2')).toBe(2000);
    expect(duration('5m')).toBe(300_000);
    expect(() => duration('soon')).toThrow('expected a duration like 30s, 5m or 1h, got "soon"');
  });
});
