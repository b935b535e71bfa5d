import * as z from 'zod';
import { nonEmptyString } from './primitives';

const captureDataSchema = (mode: 'INPUT' | 'OUTPUT', encoding: 'BASE64' | 'JSON') =>
  z.object({
    observedContentType: nonEmptyString,
    mode: z.literal(mode, { error: `expected "${mode}"` }),
    data: z.string({ error: 'expected a string' }),
    encoding: z.literal(encoding, { error: `expected "${encoding}"` }),
  });

/**
 * One SageMaker Model Monitor data-capture record (one JSONL line). Input is the request body
 * base64-encoded, output the endpoint's JSON answer as text.
 */
export const dataCaptureRecordSchema = z.object({
  captureData: z.object({
    endpointInput: captureDataSchema('INPUT', 'BASE64'),
    endpointOutput: captureDataSchema('OUTPUT', 'JSON'),
  }),
  eventMetadata: z.object({
    eventId: nonEmptyString,
    inferenceTime: z.iso.datetime({ error: 'expected an ISO-8601 UTC timestamp' }),
    inferenceId: z.string().optional(),
  }),
  eventVersion: z.literal('0', { error: 'expected "0"' }),
});
export type DataCaptureRecord = z.output<typeof dataCaptureRecordSchema>;

/** The production variant name SageMaker uses for a single-variant endpoint. */
export const DEFAULT_VARIANT = 'AllTraffic';
export const DATA_CAPTURE_PREFIX = 'data_capture';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * S3 key of a capture file, in SageMaker's layout:
 * `data_capture/<endpoint>/AllTraffic/yyyy/mm/dd/hh/mm-ss-mmm-<uuid>.jsonl` (UTC).
 */
export function dataCaptureKey(options: {
  endpointName: string;
  time: Date;
  id: string;
  variant?: string;
  prefix?: string;
}): string {
  const t = options.time;
  const prefix = options.prefix ?? DATA_CAPTURE_PREFIX;
  return [
    prefix,
    options.endpointName,
    options.variant ?? DEFAULT_VARIANT,
    String(t.getUTCFullYear()),
    pad(t.getUTCMonth() + 1),
    pad(t.getUTCDate()),
    pad(t.getUTCHours()),
    `${pad(t.getUTCMinutes())}-${pad(t.getUTCSeconds())}-${pad(t.getUTCMilliseconds(), 3)}-${options.id}.jsonl`,
  ].join('/');
}

/** Prefix under which every capture file of an endpoint (and hour, when given) lives. */
export function dataCapturePrefix(endpointName: string, options: { variant?: string; prefix?: string; hour?: Date } = {}): string {
  const base = `${options.prefix ?? DATA_CAPTURE_PREFIX}/${endpointName}/${options.variant ?? DEFAULT_VARIANT}/`;
  const t = options.hour;
  if (!t) return base;
  return `${base}${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}/${pad(t.getUTCHours())}/`;
}

const KEY_PATTERN = /(?:^|\/)([^/]+)\/([^/]+)\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/(\d{2})-(\d{2})-(\d{3})-([^/]+)\.jsonl$/;

/** Reads endpoint, variant and file time back from a capture key; undefined if it is not one. */
export function parseDataCaptureKey(key: string): { endpointName: string; variant: string; time: Date; id: string } | undefined {
  const m = KEY_PATTERN.exec(key);
  if (!m) return undefined;
  const [, endpointName, variant, y, mo, d, h, mi, s, ms, id] = m;
  const time = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, +ms));
  return { endpointName, variant, time, id };
}
