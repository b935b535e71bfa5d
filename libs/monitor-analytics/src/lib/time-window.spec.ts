import { parseDuration, parseTimePoint, parseTimeWindow } from './time-window';
import { TimeWindowError } from '../errors';

const NOW = new Date('2026-03-01T12:00:00.000Z');

describe('time windows', () => {
  it('parses durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('1w')).toBe(604_800_000);
    expect(parseDuration('soon')).toBeUndefined();
  });
  it('reads a duration as that long before now, and ISO times with an offset or dates as UTC', () => {
    expect(parseTimePoint('1h', NOW).toISOString()).toBe('2026-03-01T11:00:00.000Z');
    expect(parseTimePoint('2026-02-28T10:00:00+01:00', NOW).toISOString()).toBe('2026-02-28T09:00:00.000Z');
    expect(parseTimePoint('2026-02-28', NOW).toISOString()).toBe('2026-02-28T00:00:00.000Z');
  });
  it('rejects times without a zone and other text, naming the option', () => {
    expect(() => parseTimePoint('2026-02-28T10:00:00', NOW, 'since')).toThrow(TimeWindowError);
    expect(() => parseTimePoint('yesterday', NOW, 'since')).toThrow(
      'since: expected a duration before now like 30m, 1h or 2d, or an ISO time like 2026-03-01T10:00:00Z, got "yesterday"',
    );
  });
  it('builds [since, until) with until defaulting to now', () => {
    expect(parseTimeWindow({ since: '24h', now: NOW })).toEqual({ since: new Date('2026-02-28T12:00:00.000Z'), until: NOW });
    expect(parseTimeWindow({ now: NOW })).toEqual({ since: undefined, until: NOW });
    expect(() => parseTimeWindow({ since: '1h', until: '2h', now: NOW })).toThrow('since (2026-03-01T11:00:00.000Z) must be before until (2026-03-01T10:00:00.000Z)');
  });
});
