import { randomUUID } from 'node:crypto';
import { DATA_CAPTURE_PREFIX, DEFAULT_VARIANT, dataCaptureKey, type DataCaptureRecord } from '@scones/payload-schemas';
import { CaptureWriteError, ModelServerConfigError } from '../errors';
import type { CaptureSink } from './capture-sink';
import { silentLogger, type Logger } from './json-logger';

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
  /** How long {@link DataCaptureWriter.close} keeps retrying failed writes, in ms. Default 10 s. */
  closeTimeoutMs?: number;
  /** Key prefix, the path of SageMaker's DestinationS3Uri. Default `data_capture`. */
  prefix?: string;
  variant?: string;
  logger?: Logger;
  /** For tests: the sampling dice (0 <= x < 1) and the clock. */
  random?: () => number;
  now?: () => Date;
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
}

/** A capture file whose key and body are fixed once, so retries rewrite the same object. */
interface CaptureFile {
  key: string;
  body: string;
  records: number;
  attempts: number;
}

/**
 * Writes SageMaker Model Monitor data-capture records in batches, off the request path:
 * {@link capture} only appends to memory; a timer (and a full file) writes them as JSONL files
 * keyed `data_capture/<endpoint>/AllTraffic/yyyy/mm/dd/hh/mm-ss-mmm-<uuid>.jsonl`. A file that
 * fails to write keeps its key and is retried, so every captured record ends up in exactly one
 * file; {@link close} writes everything still pending.
 */
export class DataCaptureWriter {
  private readonly samplingPercentage: number;
  private readonly maxRecordsPerFile: number;
  private readonly closeTimeoutMs: number;
  private readonly variant: string;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly now: () => Date;
  private records: Array<{ line: string; time: Date }> = [];
  private readonly outbox: CaptureFile[] = [];
  private readonly counters = { captured: 0, sampledOut: 0, written: 0, files: 0, failedWrites: 0 };
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private closed: Promise<void> | undefined;
  private lastError: unknown;

  constructor(private readonly options: DataCaptureOptions) {
    const sampling = options.samplingPercentage ?? 100;
    if (!(sampling >= 0 && sampling <= 100)) throw new ModelServerConfigError(`samplingPercentage: expected 0..100, got ${options.samplingPercentage}`);
    this.samplingPercentage = sampling;
    this.maxRecordsPerFile = options.maxRecordsPerFile ?? 1000;
    if (!Number.isInteger(this.maxRecordsPerFile) || this.maxRecordsPerFile < 1) {
      throw new ModelServerConfigError(`maxRecordsPerFile: expected a positive integer, got ${options.maxRecordsPerFile}`);
    }
    const interval = options.flushIntervalMs ?? 1000;
    if (!(interval > 0)) throw new ModelServerConfigError(`flushIntervalMs: expected a positive number, got ${options.flushIntervalMs}`);
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.variant = options.variant ?? DEFAULT_VARIANT;
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
    // The timer must not keep a process alive on its own; close() does the final write.
    this.timer = setInterval(() => void this.flush().catch(() => undefined), interval).unref();
  }

  /** Where the files go, e.g. `s3://scones/data_capture` (for logs and the endpoint registry). */
  get destination(): string {
    return `${this.options.sink.description}/${this.options.prefix ?? DATA_CAPTURE_PREFIX}`;
  }

  /**
   * Records one served request (or skips it, per the sampling percentage). Returns whether it was
   * captured. Never throws for a write problem: those surface in {@link stats} and the logs.
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
    this.records.push({ line: JSON.stringify(record), time });
    this.counters.captured++;
    if (this.records.length >= this.maxRecordsPerFile) setImmediate(() => void this.flush().catch(() => undefined));
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
    if (this.flushQueued) return this.flushing;
    this.flushQueued = true;
    this.flushing = this.flushing
      .catch(() => undefined)
      .then(() => {
        this.flushQueued = false;
        return this.writePending();
      });
    return this.flushing;
  }

  /**
   * Stops the timer and writes everything pending, retrying failed writes with backoff for up to
   * `closeTimeoutMs`. Rejects with {@link CaptureWriteError} naming how many records could not be
   * written. Safe to call twice.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      clearInterval(this.timer);
      const deadline = Date.now() + this.closeTimeoutMs;
      let delay = 50;
      for (;;) {
        try {
          await this.flush();
          return;
        } catch (error) {
          if (Date.now() + delay > deadline) {
            const { pending } = this.stats();
            throw new CaptureWriteError(
              `${pending} data-capture record(s) could not be written to ${this.destination}: ${(error as Error)?.message ?? String(error)}`,
              { cause: error },
            );
          }
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 1000);
        }
      }
    })();
    return this.closed;
  }

  /** Cuts pending records into files (one per UTC hour and at most maxRecordsPerFile) and writes the outbox. */
  private async writePending(): Promise<void> {
    const records = this.records;
    this.records = [];
    for (let start = 0; start < records.length; ) {
      const first = records[start];
      const hour = Math.floor(first.time.getTime() / 3_600_000);
      let end = start + 1;
      while (end < records.length && end - start < this.maxRecordsPerFile && Math.floor(records[end].time.getTime() / 3_600_000) === hour) end++;
      const lines = records.slice(start, end).map((r) => r.line);
      this.outbox.push({
        key: dataCaptureKey({ endpointName: this.options.endpointName, variant: this.variant, prefix: this.options.prefix, time: first.time, id: randomUUID() }),
        body: `${lines.join('\n')}\n`,
        records: lines.length,
        attempts: 0,
      });
      start = end;
    }
    let failure: unknown;
    while (this.outbox.length > 0) {
      const file = this.outbox[0];
      file.attempts++;
      try {
        await this.options.sink.write(file.key, file.body);
      } catch (error) {
        this.counters.failedWrites++;
        failure = error;
        if (this.lastError === undefined || file.attempts === 1) {
          this.logger.warn('data capture write failed; will retry', { key: file.key, records: file.records, attempt: file.attempts, destination: this.destination, error });
        }
        this.lastError = error;
        break;
      }
      this.outbox.shift();
      this.counters.written += file.records;
      this.counters.files++;
      if (this.lastError !== undefined) {
        this.logger.info('data capture writes recovered', { key: file.key, destination: this.destination });
        this.lastError = undefined;
      }
      this.logger.debug('data capture file written', { key: file.key, records: file.records });
    }
    if (failure !== undefined) throw failure;
  }
}
