import { randomUUID } from 'node:crypto';
import { DATA_CAPTURE_PREFIX, DEFAULT_VARIANT, dataCaptureKey, type DataCaptureRecord } from '@scones/payload-schemas';
import { CaptureWriteError, ModelServerConfigError } from '../errors';
import type { CaptureSink } from './capture-sink';
import { CaptureSpool, newSegmentId, segmentFileId, type SpooledRecord, type SpoolSegmentFile } from './capture-spool';
import { systemClock, type Clock } from './clock';
import { silentLogger, type Logger } from '@scones/stack-core';

export interface DataCaptureOptions {
  /** The endpoint name in the key layout (`data_capture/<endpoint>/AllTraffic/...`). */
  endpointName: string;
  sink: CaptureSink;
  /** Share of requests captured, 0..100 (SageMaker's InitialSamplingPercentage). Default 100. */
  samplingPercentage?: number;
  /** Pending records are written at least this often, in ms. Default 1000. */
  flushIntervalMs?: number;
  /** Most records per capture file; reaching it triggers a write at once. Default 1000. */
  maxRecordsPerFile?: number;
  /**
   * Local spool directory: each record is appended to a file under `<dir>/<endpoint>/` before its
   * request is answered, so a killed process loses no answered request; the next start of the same
   * endpoint uploads what an earlier process left. Without it, records wait in memory only.
   */
  spoolDirectory?: string;
  /** How long {@link DataCaptureWriter.close} keeps retrying failed writes, in ms. Default 10 s. */
  closeTimeoutMs?: number;
  /** Key prefix, the path of SageMaker's DestinationS3Uri. Default `data_capture`. */
  prefix?: string;
  variant?: string;
  logger?: Logger;
  /** For tests: the sampling dice (0 <= x < 1), the wall clock of the records and the timers. */
  random?: () => number;
  now?: () => Date;
  clock?: Clock;
}

/** What one served request contributes to a capture record. */
export interface CaptureInput {
  /** The request's Content-Type as the client sent it. */
  contentType: string;
  body: Uint8Array;
  /** The response body (JSON text). */
  output: string;
  outputContentType?: string;
  /** `X-Amzn-SageMaker-Inference-Id` of the request, when given. */
  inferenceId?: string;
  /** When the inference was served. Default: now. */
  time?: Date;
}

export interface CaptureStats {
  /** Records accepted for writing (after sampling). */
  captured: number;
  /** Requests not captured because of the sampling percentage. */
  sampledOut: number;
  /** Records in files that were written successfully. */
  written: number;
  /** Records accepted but not written yet (pending or being retried). */
  pending: number;
  /** Files written. */
  files: number;
  /** Write attempts that failed (each is retried with the same key). */
  failedWrites: number;
  /** Records an earlier process of this endpoint left in the spool, written by this one. */
  recovered: number;
  /** Spool lines that were not whole records (torn by a kill while being written), dropped. */
  discarded: number;
}

/**
 * Records captured together: uploaded as one or more capture files (one per UTC hour) whose keys
 * derive from the segment id, so a retry, or the next process recovering the segment from the
 * spool, rewrites the same objects.
 */
interface Segment {
  id: string;
  /** The records; for a segment an earlier process left, read from the spool when first written. */
  records?: SpooledRecord[];
  /** Left in the spool by an earlier process of the endpoint. */
  recovered: boolean;
  /** The spool file being appended to, while the segment is open. */
  file?: SpoolSegmentFile;
  spooled: boolean;
  /** Files of the segment already written (a retry resumes there). */
  filesWritten: number;
}

/** A capture file of a segment: key and body are fixed by the segment's content. */
interface CaptureFile {
  key: string;
  body: string;
  records: number;
}

/**
 * Writes SageMaker Model Monitor data-capture records in batches, off the request path:
 * {@link capture} appends to memory (and to the local spool, when configured); a timer (and a full
 * file) writes them as JSONL files keyed `data_capture/<endpoint>/AllTraffic/yyyy/mm/dd/hh/mm-ss-mmm-<uuid>.jsonl`.
 * A file that fails to write keeps its key and is retried, so every captured record ends up in
 * exactly one file; {@link close} writes everything still pending.
 */
export class DataCaptureWriter {
  private readonly samplingPercentage: number;
  private readonly maxRecordsPerFile: number;
  private readonly flushIntervalMs: number;
  private readonly closeTimeoutMs: number;
  private readonly variant: string;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly now: () => Date;
  private readonly clock: Clock;
  private readonly spool?: CaptureSpool;
  private current?: Segment;
  /** Segments waiting to be written, oldest first. */
  private readonly sealed: Segment[] = [];
  private readonly counters = { captured: 0, sampledOut: 0, written: 0, files: 0, failedWrites: 0, recovered: 0, discarded: 0 };
  private readonly stopTimer = new AbortController();
  private flushing: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private sealQueued = false;
  private closed: Promise<void> | undefined;
  private lastError: unknown;
  private spoolFailed = false;

  constructor(private readonly options: DataCaptureOptions) {
    const sampling = options.samplingPercentage ?? 100;
    if (!(sampling >= 0 && sampling <= 100)) throw new ModelServerConfigError(`samplingPercentage: expected 0..100, got ${options.samplingPercentage}`);
    this.samplingPercentage = sampling;
    this.maxRecordsPerFile = options.maxRecordsPerFile ?? 1000;
    if (!Number.isInteger(this.maxRecordsPerFile) || this.maxRecordsPerFile < 1) {
      throw new ModelServerConfigError(`maxRecordsPerFile: expected a positive integer, got ${options.maxRecordsPerFile}`);
    }
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    if (!(this.flushIntervalMs > 0)) throw new ModelServerConfigError(`flushIntervalMs: expected a positive number, got ${options.flushIntervalMs}`);
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.variant = options.variant ?? DEFAULT_VARIANT;
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
    this.clock = options.clock ?? systemClock;
    if (options.spoolDirectory !== undefined) {
      this.spool = new CaptureSpool(options.spoolDirectory, options.endpointName);
      for (const id of this.spool.leftovers) this.sealed.push({ id, recovered: true, spooled: true, filesWritten: 0 });
      if (this.spool.leftovers.length) {
        this.logger.info('data capture: recovering what an earlier process left in the spool', { spool: this.spool.directory, segments: this.spool.leftovers.length });
        setImmediate(() => void this.write(false).catch(() => undefined));
      }
    }
    void this.runTimer();
  }

  /** Where the files go, e.g. `s3://scones/data_capture` (for logs and the endpoint registry). */
  get destination(): string {
    return `${this.options.sink.description}/${this.options.prefix ?? DATA_CAPTURE_PREFIX}`;
  }

  /** The spool directory of this endpoint, when spooling. */
  get spoolDirectory(): string | undefined {
    return this.spool?.directory;
  }

  /**
   * Records one served request (or skips it, per the sampling percentage). Returns whether it was
   * captured; once it returns, the record is in the spool (when configured). Never throws for a
   * write problem: those surface in {@link stats} and the logs.
   */
  capture(input: CaptureInput): boolean {
    if (this.closed) throw new CaptureWriteError('data capture is closed; no more records are accepted');
    if (this.samplingPercentage < 100 && this.random() * 100 >= this.samplingPercentage) {
      this.counters.sampledOut++;
      return false;
    }
    const time = input.time ?? this.now();
    const record: DataCaptureRecord = {
      captureData: {
        endpointInput: { observedContentType: input.contentType, mode: 'INPUT', data: Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength).toString('base64'), encoding: 'BASE64' },
        endpointOutput: { observedContentType: input.outputContentType ?? 'application/json', mode: 'OUTPUT', data: input.output, encoding: 'JSON' },
      },
      eventMetadata: { eventId: randomUUID(), inferenceTime: time.toISOString(), ...(input.inferenceId ? { inferenceId: input.inferenceId } : {}) },
      eventVersion: '0',
    };
    const line = JSON.stringify(record);
    const segment = (this.current ??= this.openSegment());
    const records = (segment.records ??= []);
    records.push({ line, time });
    if (segment.file) {
      try {
        segment.file.append(line);
      } catch (error) {
        // The records are still in memory and will be written; only their crash safety is lost.
        // The partial spool file goes, so no later start could upload a part of this segment.
        segment.spooled = false;
        segment.file.close();
        segment.file = undefined;
        this.spool?.discard(segment.id);
        this.spoolFailed = true;
        this.logger.error('data capture spool write failed; records are kept in memory only until written', { spool: this.spool?.directory, error });
      }
    }
    this.counters.captured++;
    if (records.length >= this.maxRecordsPerFile) {
      this.seal();
      setImmediate(() => void this.write(false).catch(() => undefined));
    }
    return true;
  }

  stats(): CaptureStats {
    const pending = this.counters.captured - this.counters.written;
    return { ...this.counters, pending };
  }

  /**
   * Writes every record captured so far (and retries files that failed before). Calls made while a
   * flush runs are served by one more flush after it. Rejects if a file could not be written; its
   * records stay pending for the next attempt.
   */
  flush(): Promise<void> {
    return this.write(true);
  }

  /** Writes the sealed segments (and the open one too, when `seal`), one write pass at a time. */
  private write(seal: boolean): Promise<void> {
    if (this.flushQueued) {
      this.sealQueued ||= seal;
      return this.flushing;
    }
    this.flushQueued = true;
    this.sealQueued = seal;
    this.flushing = this.flushing
      .catch(() => undefined)
      .then(() => {
        this.flushQueued = false;
        if (this.sealQueued) this.seal();
        return this.writeSealed();
      });
    return this.flushing;
  }

  /**
   * Stops the timer and writes everything pending, retrying failed writes with backoff for up to
   * `closeTimeoutMs`. Rejects with {@link CaptureWriteError} naming how many records could not be
   * written (with a spool, they stay in it for the next start). Safe to call twice.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.stopTimer.abort();
      const deadline = this.clock.now() + this.closeTimeoutMs;
      let delay = 50;
      try {
        for (;;) {
          try {
            await this.flush();
            return;
          } catch (error) {
            if (this.clock.now() + delay > deadline) {
              const { pending } = this.stats();
              const kept = this.spool && !this.spoolFailed ? `; they stay in the spool ${this.spool.directory} for the next start` : '';
              throw new CaptureWriteError(
                `${pending} data-capture record(s) could not be written to ${this.destination}${kept}: ${(error as Error)?.message ?? String(error)}`,
                { cause: error },
              );
            }
            await this.clock.sleep(delay);
            delay = Math.min(delay * 2, 1000);
          }
        }
      } finally {
        this.spool?.release();
      }
    })();
    return this.closed;
  }

  private async runTimer(): Promise<void> {
    const { signal } = this.stopTimer;
    while (!signal.aborted) {
      await this.clock.sleep(this.flushIntervalMs, signal);
      if (!signal.aborted) await this.flush().catch(() => undefined);
    }
  }

  private openSegment(): Segment {
    const id = newSegmentId(Date.now());
    const segment: Segment = { id, records: [], recovered: false, spooled: false, filesWritten: 0 };
    if (this.spool && !this.spoolFailed) {
      try {
        segment.file = this.spool.open(id);
        segment.spooled = true;
      } catch (error) {
        this.spoolFailed = true;
        this.logger.error('data capture spool cannot be written; records are kept in memory only until written', { spool: this.spool.directory, error });
      }
    }
    return segment;
  }

  /** Closes the open segment: it is written as it stands now. */
  private seal(): void {
    const segment = this.current;
    if (!segment) return;
    this.current = undefined;
    segment.file?.close();
    segment.file = undefined;
    this.sealed.push(segment);
  }

  /** The capture files of a segment: consecutive records of the same UTC hour, keyed by segment and index. */
  private filesOf(segment: Segment, records: SpooledRecord[]): CaptureFile[] {
    const files: CaptureFile[] = [];
    const hourOf = (record: SpooledRecord) => Math.floor(record.time.getTime() / 3_600_000);
    for (let start = 0; start < records.length; ) {
      const hour = hourOf(records[start]);
      let end = start + 1;
      while (end < records.length && hourOf(records[end]) === hour) end++;
      const key = dataCaptureKey({ endpointName: this.options.endpointName, variant: this.variant, prefix: this.options.prefix, time: records[start].time, id: segmentFileId(segment.id, files.length) });
      files.push({ key, body: `${records.slice(start, end).map((r) => r.line).join('\n')}\n`, records: end - start });
      start = end;
    }
    return files;
  }

  /** Records of a segment an earlier process left, with torn or foreign lines dropped (and said so). */
  private async recoverRecords(spool: CaptureSpool, segment: Segment): Promise<SpooledRecord[]> {
    const content = await spool.read(segment.id);
    const file = spool.segmentPath(segment.id);
    if (content.torn) this.logger.warn('data capture spool: dropped a record torn by the end of an earlier process', { file });
    if (content.invalid.length) this.logger.error('data capture spool: dropped lines that are not capture records', { file, lines: content.invalid.slice(0, 10), count: content.invalid.length });
    this.counters.discarded += content.invalid.length + (content.torn ? 1 : 0);
    return content.records;
  }

  /** Writes the sealed segments in order; stops at the first failed file (it is retried next time). */
  private async writeSealed(): Promise<void> {
    while (this.sealed.length > 0) {
      const segment = this.sealed[0];
      const { recovered } = segment;
      let records: SpooledRecord[];
      try {
        records = segment.records ??= this.spool ? await this.recoverRecords(this.spool, segment) : [];
      } catch (error) {
        this.logger.error('data capture spool: cannot read a segment; it stays in the spool', { file: this.spool?.segmentPath(segment.id), error });
        this.sealed.shift();
        continue;
      }
      const files = this.filesOf(segment, records);
      for (; segment.filesWritten < files.length; segment.filesWritten++) {
        const file = files[segment.filesWritten];
        try {
          await this.options.sink.write(file.key, file.body);
        } catch (error) {
          this.counters.failedWrites++;
          if (this.lastError === undefined) {
            this.logger.warn('data capture write failed; will retry', { key: file.key, records: file.records, destination: this.destination, error });
          }
          this.lastError = error;
          throw error;
        }
        if (recovered) this.counters.recovered += file.records;
        else this.counters.written += file.records;
        this.counters.files++;
        if (this.lastError !== undefined) {
          this.logger.info('data capture writes recovered', { key: file.key, destination: this.destination });
          this.lastError = undefined;
        }
        this.logger.debug('data capture file written', { key: file.key, records: file.records });
      }
      if (segment.spooled) await this.spool?.remove(segment.id);
      if (recovered) this.logger.info('data capture: uploaded a segment an earlier process left in the spool', { records: records.length, files: files.length, destination: this.destination });
      this.sealed.shift();
    }
  }
}
