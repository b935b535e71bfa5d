import { join } from 'node:path';
import * as z from 'zod';
import { AwsError } from '@scones/stack-core';
import { awsJsonHandler } from '@scones/stack-core';
import { parseInput } from '@scones/stack-core';
import type { StackContext, StackService } from '@scones/stack-core';
import { LogStore, type LogEvent, type LogEventInput, type LogGroupInfo, type LogStreamInfo } from './log-store';

/** The CloudWatch Logs service of the stack, with the in-process API other services write with. */
export interface LogsService extends StackService {
  readonly id: 'logs';
  /**
   * Appends events to `group`/`stream`, creating both on first use (e.g. a training job's
   * `/aws/sagemaker/TrainingJobs` `<job>/algo-1-<time>`, a function's `/aws/lambda/<fn>`).
   */
  append(group: string, stream: string, events: readonly LogEventInput[]): void;
  /** The stored events of a stream (tests, status). */
  events(group: string, stream: string): readonly LogEvent[] | undefined;
}

const GROUP_NAME = z.string().min(1).max(512).regex(/^[.\-_/#A-Za-z0-9]+$/, { error: 'must match [.\\-_/#A-Za-z0-9]+' });
const GROUP_IDENTIFIER = z.string().min(1).max(2048).regex(/^[\w#+=/:,.@-]*$/, { error: 'must match [\\w#+=/:,.@-]*' });
const STREAM_NAME = z.string().min(1).max(512).regex(/^[^:*]*$/, { error: 'must not contain ":" or "*"' });
const TOKEN = z.string().min(1);

const describeLogStreamsInput = z.object({
  logGroupName: GROUP_NAME.optional(),
  logGroupIdentifier: GROUP_IDENTIFIER.optional(),
  logStreamNamePrefix: STREAM_NAME.optional(),
  orderBy: z.enum(['LogStreamName', 'LastEventTime']).optional(),
  descending: z.boolean().optional(),
  nextToken: TOKEN.optional(),
  limit: z.number().int().min(1).max(50).optional(),
});

const getLogEventsInput = z.object({
  logGroupName: GROUP_NAME.optional(),
  logGroupIdentifier: GROUP_IDENTIFIER.optional(),
  logStreamName: STREAM_NAME,
  startTime: z.number().int().min(0).optional(),
  endTime: z.number().int().min(0).optional(),
  nextToken: TOKEN.optional(),
  limit: z.number().int().min(1).max(10_000).optional(),
  startFromHead: z.boolean().optional(),
  unmask: z.boolean().optional(),
});

const describeLogGroupsInput = z.object({
  logGroupNamePrefix: GROUP_NAME.optional(),
  nextToken: TOKEN.optional(),
  limit: z.number().int().min(1).max(50).optional(),
});

/** GetLogEvents answers at most 1 MB of messages (and 10 000 events). */
const MAX_RESPONSE_BYTES = 1_048_576;
/** Per-event overhead CloudWatch counts towards the 1 MB. */
const EVENT_OVERHEAD_BYTES = 26;

const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message, 400);
const invalidToken = () => invalidParameter('The specified nextToken is invalid.');

/** `f/<position>/s`, `b/<position>/s`: positions in the stream (CloudWatch's tokens are opaque too). */
function eventToken(direction: 'f' | 'b', position: number): string {
  return `${direction}/${String(position).padStart(56, '0')}/s`;
}

function parseEventToken(token: string, length: number): { direction: 'f' | 'b'; position: number } {
  const m = /^([fb])\/(\d{1,56})\/s$/.exec(token);
  if (!m) throw invalidToken();
  const position = Number(m[2]);
  if (!Number.isSafeInteger(position) || position > length) throw invalidToken();
  return { direction: m[1] as 'f' | 'b', position };
}

/** Offsets of paginated listings, opaque to clients. */
function offsetToken(offset: number, what: string): string {
  return Buffer.from(JSON.stringify({ what, offset })).toString('base64url');
}

function parseOffsetToken(token: string, what: string): number {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { what?: unknown; offset?: unknown };
    if (value.what === what && Number.isSafeInteger(value.offset) && (value.offset as number) >= 0) return value.offset as number;
  } catch {
    /* fall through */
  }
  throw invalidToken();
}

/**
 * CloudWatch Logs (awsJson 1.1, `Logs_20140328.`), what following a training job needs:
 * DescribeLogGroups, DescribeLogStreams and GetLogEvents with CloudWatch's paging semantics (the
 * forward token stays the same while no new events arrive, which is how SDK followers poll).
 * Other services append through {@link LogsService.append}. State: `<dataDir>/logs/`.
 */
export function createLogsService(stack: StackContext): LogsService {
  const store = new LogStore(join(stack.dataDir, 'logs'));
  const arnOf = (region: string, group: string, stream?: string) =>
    `arn:aws:logs:${region}:${stack.accountId}:log-group:${group}${stream === undefined ? ':*' : `:log-stream:${stream}`}`;

  /** logGroupName, or logGroupIdentifier (a name or an ARN): exactly one. */
  const groupOf = (input: { logGroupName?: string; logGroupIdentifier?: string }): LogGroupInfo => {
    if (input.logGroupName !== undefined && input.logGroupIdentifier !== undefined) {
      throw invalidParameter('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
    }
    let name = input.logGroupName;
    if (name === undefined && input.logGroupIdentifier !== undefined) {
      const id = input.logGroupIdentifier;
      const arn = /^arn:aws[a-z-]*:logs:[^:]*:\d{12}:log-group:([^:]+)(?::\*)?$/.exec(id);
      name = arn ? arn[1] : id;
    }
    if (name === undefined) throw invalidParameter('Either logGroupName or logGroupIdentifier must be specified.');
    const group = store.group(name);
    if (!group) throw new AwsError('ResourceNotFoundException', 'The specified log group does not exist.', 400);
    return group;
  };

  const streamSummary = (region: string, group: LogGroupInfo, s: LogStreamInfo) => {
    const first = s.events[0];
    const last = s.events[s.events.length - 1];
    return {
      logStreamName: s.name,
      creationTime: s.creationTime,
      ...(first ? { firstEventTimestamp: first.timestamp, lastEventTimestamp: last.timestamp, lastIngestionTime: last.ingestionTime } : {}),
      uploadSequenceToken: String(s.events.length + 1).padStart(56, '0'),
      arn: arnOf(region, group.name, s.name),
      storedBytes: 0,
    };
  };

  const handle = awsJsonHandler({
    serviceName: 'CloudWatch Logs',
    targetPrefix: 'Logs_20140328',
    protocol: 'awsJson1_1',
    operations: {
      DescribeLogGroups: (raw, ctx) => {
        const input = parseInput(describeLogGroupsInput, raw, 'DescribeLogGroups', 'InvalidParameterException');
        const names = store.groupNames().filter((n) => input.logGroupNamePrefix === undefined || n.startsWith(input.logGroupNamePrefix));
        const offset = input.nextToken ? parseOffsetToken(input.nextToken, 'groups') : 0;
        const limit = input.limit ?? 50;
        const page = names.slice(offset, offset + limit);
        return {
          logGroups: page.map((name) => {
            const group = store.group(name);
            return { logGroupName: name, creationTime: group?.creationTime ?? 0, metricFilterCount: 0, arn: arnOf(ctx.region, name), logGroupArn: arnOf(ctx.region, name).replace(/:\*$/, ''), storedBytes: 0 };
          }),
          ...(offset + limit < names.length ? { nextToken: offsetToken(offset + limit, 'groups') } : {}),
        };
      },

      DescribeLogStreams: (raw, ctx) => {
        const input = parseInput(describeLogStreamsInput, raw, 'DescribeLogStreams', 'InvalidParameterException');
        const orderBy = input.orderBy ?? 'LogStreamName';
        if (orderBy === 'LastEventTime' && input.logStreamNamePrefix !== undefined) {
          throw invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
        }
        const group = groupOf(input);
        const streams = [...group.streams.values()].filter((s) => input.logStreamNamePrefix === undefined || s.name.startsWith(input.logStreamNamePrefix));
        const lastEvent = (s: LogStreamInfo) => s.events[s.events.length - 1]?.timestamp ?? 0;
        streams.sort(orderBy === 'LogStreamName' ? (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : (a, b) => lastEvent(a) - lastEvent(b) || (a.name < b.name ? -1 : 1));
        if (input.descending) streams.reverse();
        const offset = input.nextToken ? parseOffsetToken(input.nextToken, `streams:${group.name}`) : 0;
        const limit = input.limit ?? 50;
        const page = streams.slice(offset, offset + limit);
        return {
          logStreams: page.map((s) => streamSummary(ctx.region, group, s)),
          ...(offset + limit < streams.length ? { nextToken: offsetToken(offset + limit, `streams:${group.name}`) } : {}),
        };
      },

      GetLogEvents: (raw) => {
        const input = parseInput(getLogEventsInput, raw, 'GetLogEvents', 'InvalidParameterException');
        const group = groupOf(input);
        const stream = group.streams.get(input.logStreamName);
        if (!stream) throw new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.', 400);
        const events = stream.events;
        const limit = input.limit ?? 10_000;
        const matches = (e: LogEvent) => (input.startTime === undefined || e.timestamp >= input.startTime) && (input.endTime === undefined || e.timestamp < input.endTime);
        const token = input.nextToken ? parseEventToken(input.nextToken, events.length) : undefined;
        const forward = token ? token.direction === 'f' : input.startFromHead === true;
        const from = token ? token.position : forward ? 0 : events.length;
        const picked: number[] = [];
        let bytes = 0;
        const take = (i: number) => {
          const size = Buffer.byteLength(events[i].message) + EVENT_OVERHEAD_BYTES;
          if (picked.length >= limit || bytes + size > MAX_RESPONSE_BYTES) return false;
          picked.push(i);
          bytes += size;
          return true;
        };
        if (forward) {
          for (let i = from; i < events.length; i++) if (matches(events[i]) && !take(i)) break;
        } else {
          for (let i = from - 1; i >= 0; i--) if (matches(events[i]) && !take(i)) break;
          picked.reverse();
        }
        // Reading on from the forward token gives what came after this page; from the backward
        // token, what came before. With nothing read, both stay where they were.
        const first = picked.length ? picked[0] : from;
        const after = picked.length ? picked[picked.length - 1] + 1 : from;
        return {
          events: picked.map((i) => ({ timestamp: events[i].timestamp, message: events[i].message, ingestionTime: events[i].ingestionTime })),
          nextForwardToken: eventToken('f', after),
          nextBackwardToken: eventToken('b', first),
        };
      },
    },
  });

  return {
    id: 'logs',
    handle,
    append: (group, stream, events) => store.append(group, stream, events),
    events: (group, stream) => store.group(group)?.streams.get(stream)?.events,
    start: () => store.load(),
    close: () => store.flush(),
    status: async () => ({
      logGroups: store.groupNames().map((name) => ({ name, streams: store.group(name)?.streams.size ?? 0 })),
    }),
  };
}
