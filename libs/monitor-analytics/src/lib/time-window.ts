import { TimeWindowError } from '../errors';
import type { TimeWindow } from './capture-source';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
// A date, or a date-time with an explicit offset: a time without one would depend on the machine's zone.
const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** A duration like `90s`, `30m`, `1h`, `2d`, `1w` in milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * UNITS[m[2]] : undefined;
}

/**
 * A point in time: an ISO date / date-time with offset (`2026-03-01`, `2026-03-01T10:00:00Z`), or a
 * duration meaning that long before `now` (`1h` = an hour ago).
 */
export function parseTimePoint(text: string, now: Date, what = 'time'): Date {
  const value = text.trim();
  const duration = parseDuration(value);
  if (duration !== undefined) return new Date(now.getTime() - duration);
  if (ISO.test(value)) {
    const time = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
    if (Number.isFinite(time)) return new Date(time);
  }
  throw new TimeWindowError(
    `${what}: expected a duration before now like 30m, 1h or 2d, or an ISO time like 2026-03-01T10:00:00Z, got ${JSON.stringify(text)}`,
  );
}

/** The window `[since, until)` from command-line style values; until defaults to `now`. */
export function parseTimeWindow(options: { since?: string; until?: string; now: Date }): TimeWindow {
  const until = options.until === undefined ? options.now : parseTimePoint(options.until, options.now, 'until');
  const since = options.since === undefined ? undefined : parseTimePoint(options.since, options.now, 'since');
  if (since && since.getTime() >= until.getTime()) {
    throw new TimeWindowError(`since (${since.toISOString()}) must be before until (${until.toISOString()})`);
  }
  return { since, until };
}
