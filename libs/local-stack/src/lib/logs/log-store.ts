import { createHash } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@scones/stack-core';

/** One stored event, as GetLogEvents returns it. */
export interface LogEvent {
  /** When it happened (ms since the epoch). */
  timestamp: number;
  message: string;
  /** When the store received it (ms since the epoch). */
  ingestionTime: number;
}

/** What a writer gives: the timestamp defaults to now. */
export interface LogEventInput {
  timestamp?: number;
  message: string;
}

export interface LogStreamInfo {
  name: string;
  creationTime: number;
  events: readonly LogEvent[];
  /** Sum of message bytes (CloudWatch reports 0 here nowadays; kept for status). */
  bytes: number;
}

export interface LogGroupInfo {
  name: string;
  creationTime: number;
  streams: ReadonlyMap<string, LogStreamInfo>;
}

interface MutableStream extends LogStreamInfo {
  events: LogEvent[];
  file: string;
  /** Lines not yet appended to the file. */
  pending: string[];
  writing: Promise<void>;
}

interface MutableGroup {
  name: string;
  creationTime: number;
  directory: string;
  streams: Map<string, MutableStream>;
  created: Promise<void>;
}

const GROUP_FILE = 'group.json';
const STREAM_SUFFIX = '.jsonl';

/**
 * A file name for any CloudWatch name (group names hold `/`, stream names anything but `:*`):
 * encoded when short, else a hash; the real name is stored inside the file, so nothing a
 * client sends can reach outside the directory or exceed the file-name limit.
 */
function fileNameOf(name: string): string {
  const encoded = encodeURIComponent(name).replace(/\./g, '%2E');
  return encoded.length <= 180 ? encoded : `h-${createHash('sha256').update(name).digest('hex')}`;
}

/**
 * CloudWatch Logs' data: log groups of log streams of events, kept in memory and appended to
 * one JSONL file per stream under `<directory>/<group>/<stream>.jsonl` (first line: the stream's
 * name and creation time), so logs survive a restart. A line torn by a crash is skipped on load.
 */
export class LogStore {
  private readonly groups = new Map<string, MutableGroup>();

  constructor(
    readonly directory: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads what earlier runs stored. */
  async load(): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const directory = join(this.directory, entry);
      let header: { name?: unknown; creationTime?: unknown };
      try {
        header = JSON.parse(await readFile(join(directory, GROUP_FILE), 'utf8')) as typeof header;
      } catch {
        continue; // not a group directory (or a group whose header was never written)
      }
      if (typeof header.name !== 'string' || typeof header.creationTime !== 'number') continue;
      const group: MutableGroup = { name: header.name, creationTime: header.creationTime, directory, streams: new Map(), created: Promise.resolve() };
      this.groups.set(group.name, group);
      for (const file of await readdir(directory)) {
        if (!file.endsWith(STREAM_SUFFIX)) continue;
        const stream = parseStreamFile(await readFile(join(directory, file), 'utf8'), join(directory, file));
        if (stream) group.streams.set(stream.name, stream);
      }
    }
  }

  group(name: string): LogGroupInfo | undefined {
    return this.groups.get(name);
  }

  groupNames(): string[] {
    return [...this.groups.keys()].sort();
  }

  /** Creates the group if needed (no-op when it exists). */
  createGroup(name: string): void {
    this.ensureGroup(name);
  }

  /** Creates the stream (and group) if needed. */
  createStream(groupName: string, streamName: string): void {
    this.ensureStream(this.ensureGroup(groupName), streamName);
  }

  /**
   * Appends events to a stream, creating the group and stream on first use — the in-process API
   * other services write with (training jobs, endpoints, Lambda functions). Events are kept in
   * the order given (sorted within the batch by timestamp, as PutLogEvents requires).
   */
  append(groupName: string, streamName: string, events: readonly LogEventInput[]): void {
    if (events.length === 0) return;
    const stream = this.ensureStream(this.ensureGroup(groupName), streamName);
    const ingestionTime = this.now();
    const batch = events
      .map((e) => ({ timestamp: Math.floor(e.timestamp ?? ingestionTime), message: e.message, ingestionTime }))
      .filter((e) => e.message.length > 0)
      .sort((a, b) => a.timestamp - b.timestamp);
    for (const event of batch) {
      stream.events.push(event);
      stream.bytes += Buffer.byteLength(event.message);
      stream.pending.push(JSON.stringify({ t: event.timestamp, i: event.ingestionTime, m: event.message }));
    }
    this.schedule(stream);
  }

  /** Resolves once every appended event is on disk. */
  async flush(): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const group of this.groups.values()) {
      writes.push(group.created);
      for (const stream of group.streams.values()) writes.push(stream.writing);
    }
    await Promise.all(writes);
  }

  private ensureGroup(name: string): MutableGroup {
    let group = this.groups.get(name);
    if (!group) {
      const directory = join(this.directory, fileNameOf(name));
      const creationTime = this.now();
      const header = `${JSON.stringify({ name, creationTime })}\n`;
      group = { name, creationTime, directory, streams: new Map(), created: writeFileAtomic(join(directory, GROUP_FILE), header) };
      this.groups.set(name, group);
    }
    return group;
  }

  private ensureStream(group: MutableGroup, name: string): MutableStream {
    let stream = group.streams.get(name);
    if (!stream) {
      const file = join(group.directory, `${fileNameOf(name)}${STREAM_SUFFIX}`);
      const creationTime = this.now();
      stream = { name, creationTime, events: [], bytes: 0, file, pending: [JSON.stringify({ stream: name, creationTime })], writing: group.created };
      group.streams.set(name, stream);
      this.schedule(stream);
    }
    return stream;
  }

  /** One append at a time per stream, taking everything pending. */
  private schedule(stream: MutableStream): void {
    stream.writing = stream.writing
      .catch(() => undefined)
      .then(async () => {
        if (stream.pending.length === 0) return;
        const lines = stream.pending.splice(0);
        await mkdir(join(stream.file, '..'), { recursive: true });
        await appendFile(stream.file, `${lines.join('\n')}\n`);
      });
  }
}

function parseStreamFile(text: string, file: string): MutableStream | undefined {
  const lines = text.split('\n');
  let header: { stream?: unknown; creationTime?: unknown };
  try {
    header = JSON.parse(lines[0]) as typeof header;
  } catch {
    return undefined;
  }
  if (typeof header.stream !== 'string' || typeof header.creationTime !== 'number') return undefined;
  const stream: MutableStream = { name: header.stream, creationTime: header.creationTime, events: [], bytes: 0, file, pending: [], writing: Promise.resolve() };
  for (const line of lines.slice(1)) {
    if (!line) continue;
    try {
      const e = JSON.parse(line) as { t?: unknown; i?: unknown; m?: unknown };
      if (typeof e.t === 'number' && typeof e.i === 'number' && typeof e.m === 'string') {
        stream.events.push({ timestamp: e.t, ingestionTime: e.i, message: e.m });
        stream.bytes += Buffer.byteLength(e.m);
      }
    } catch {
      // A line torn by a crash mid-append: what it held was never acknowledged to anyone who waited.
    }
  }
  // A torn last line must not glue itself to the next append.
  if (text.length > 0 && !text.endsWith('\n')) stream.pending.push('');
  return stream;
}
