import { createHash, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ModelServerConfigError } from '../errors';

/*
 * The local spool of data capture: every captured record is appended to a segment file before its
 * request is answered (no fsync: a killed process does not lose the page cache), so SIGKILL loses
 * nothing that was answered. Segments are uploaded as whole capture files and then deleted; an
 * endpoint that starts finds the segments an earlier process of the same endpoint left and uploads
 * them. Keys are derived from the segment, so uploading a segment twice overwrites the same objects
 * with the same bytes: no duplicates.
 */

const SEGMENT_SUFFIX = '.spool';
const LOCK_FILE = 'lock';

/** `<ms since epoch, 15 digits>-<uuid>`: names sort in creation order. */
const SEGMENT_NAME = /^\d{15}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A deterministic UUID (version 5 layout, SHA-1) for file `index` of a segment. */
export function segmentFileId(segment: string, index: number): string {
  const hash = createHash('sha1').update(`${segment}/${index}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function newSegmentId(nowMs: number): string {
  return `${String(Math.floor(nowMs)).padStart(15, '0')}-${randomUUID()}`;
}

const TIME_FIELD = '"inferenceTime":"';

/**
 * The inference time of a capture record line as this writer produces it, without parsing the
 * (large) line; undefined if the line is not such a record.
 */
export function recordTime(line: string): Date | undefined {
  if (!line.startsWith('{"captureData":') || !line.endsWith('}')) return undefined;
  const at = line.lastIndexOf(TIME_FIELD);
  if (at < 0) return undefined;
  const end = line.indexOf('"', at + TIME_FIELD.length);
  const time = new Date(line.slice(at + TIME_FIELD.length, end));
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** Linux: the start time of a process (clock ticks since boot), to tell a live owner from a reused pid. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockOwner {
  pid: number;
  startTime?: string;
}

/** Whether the process a lock file names is still the process that wrote it. */
function ownerIsRunning(owner: unknown): owner is LockOwner {
  if (typeof owner !== 'object' || owner === null) return false;
  const { pid, startTime } = owner as Partial<LockOwner>;
  if (!Number.isInteger(pid) || (pid as number) <= 0 || !processIsAlive(pid as number)) return false;
  const now = processStartTime(pid as number);
  // Without /proc (not Linux) a live pid is trusted; with it, a reused pid has another start time.
  return now === undefined ? startTime === undefined : now === startTime;
}

/** An open segment: records are appended to its file, one line each. */
export class SpoolSegmentFile {
  private fd: number | undefined;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }
  append(line: string): void {
    if (this.fd === undefined) throw new Error(`spool segment ${this.path} is closed`);
    writeSync(this.fd, `${line}\n`);
  }
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** One capture record as it is spooled: its JSONL line and its inference time. */
export interface SpooledRecord {
  line: string;
  time: Date;
}

/** What a segment file held: its records, whether its last line was torn, and the numbers of lines that are not records. */
export interface SegmentContent {
  records: SpooledRecord[];
  torn: boolean;
  invalid: number[];
}

/**
 * The spool directory of one endpoint (`<directory>/<endpoint>/`), held with a lock file naming
 * this process, so two live processes never share it.
 */
export class CaptureSpool {
  readonly directory: string;
  /** Segments an earlier process left, oldest first (found when the spool was opened). */
  readonly leftovers: string[];
  private locked = false;

  constructor(root: string, endpointName: string) {
    this.directory = join(resolve(root), endpointName);
    try {
      mkdirSync(this.directory, { recursive: true });
    } catch (error) {
      throw new ModelServerConfigError(`capture spool ${this.directory}: cannot create it: ${(error as Error).message}`, { cause: error });
    }
    this.lock();
    this.leftovers = readdirSync(this.directory)
      .filter((f) => f.endsWith(SEGMENT_SUFFIX) && SEGMENT_NAME.test(f.slice(0, -SEGMENT_SUFFIX.length)))
      .map((f) => f.slice(0, -SEGMENT_SUFFIX.length))
      .sort();
  }

  private lock(): void {
    const file = join(this.directory, LOCK_FILE);
    const me = JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(file, me, { flag: 'wx' });
        this.locked = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new ModelServerConfigError(`capture spool ${this.directory}: cannot write its lock file: ${(error as Error).message}`, { cause: error });
        }
      }
      let owner: unknown;
      try {
        owner = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        owner = undefined; // unreadable or half written: not a live owner's lock
      }
      if (ownerIsRunning(owner)) {
        throw new ModelServerConfigError(`capture spool ${this.directory} is in use by process ${owner.pid}; give each endpoint process its own spool directory`);
      }
      try {
        unlinkSync(file); // the owner is gone: take the spool over
      } catch {
        /* another process took it first; try again */
      }
    }
    throw new ModelServerConfigError(`capture spool ${this.directory}: could not take its lock file`);
  }

  segmentPath(id: string): string {
    return join(this.directory, `${id}${SEGMENT_SUFFIX}`);
  }

  open(id: string): SpoolSegmentFile {
    return new SpoolSegmentFile(this.segmentPath(id));
  }

  /** The records of a segment file; a last line without its newline was torn by a kill and is dropped. */
  async read(id: string): Promise<SegmentContent> {
    const text = await readFile(this.segmentPath(id), 'utf8');
    const parts = text.split('\n');
    const tail = parts.pop();
    const records: SpooledRecord[] = [];
    const invalid: number[] = [];
    parts.forEach((line, i) => {
      const time = recordTime(line);
      if (time) records.push({ line, time });
      else invalid.push(i + 1);
    });
    return { records, torn: tail !== '', invalid };
  }

  async remove(id: string): Promise<void> {
    await unlink(this.segmentPath(id)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Deletes a segment file at once (after a failed append); never throws. */
  discard(id: string): void {
    try {
      unlinkSync(this.segmentPath(id));
    } catch {
      /* already gone, or the disk is failing: nothing more to do */
    }
  }

  /** Gives the spool up (the process is stopping); what is left in it is recovered by the next start. */
  release(): void {
    if (!this.locked) return;
    this.locked = false;
    try {
      unlinkSync(join(this.directory, LOCK_FILE));
    } catch {
      /* already gone */
    }
  }
}
