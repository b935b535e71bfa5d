import type { RgbImage } from '@scones/image-classifier';
import { InferenceTimeoutError, ModelInferenceError, ModelServerConfigError, QueueFullError } from '../errors';
import { systemClock, type Clock } from './clock';
import type { Predictor } from './predictor';

export interface MicroBatcherOptions {
  /** Most images in one model call. Default 32. */
  maxBatchSize?: number;
  /**
   * How long the first image of a batch waits for company, in ms. 0 (default): only the images
   * that arrived in the same event-loop turn, or while the previous batch ran, join it — no added
   * latency for a lone request, full batches under load.
   */
  maxDelayMs?: number;
  /** Most images waiting or being predicted; more are refused with {@link QueueFullError}. Default 256. */
  maxQueue?: number;
  /** A model call that takes longer fails its requests with {@link InferenceTimeoutError}. Default 60 s. */
  timeoutMs?: number;
  /**
   * Model calls that may run at once. Default: the predictor's `concurrency` (e.g. its number of
   * inference workers), else 1.
   */
  concurrency?: number;
  /** Timers (batch delay, inference timeout). Default: the system clock. */
  clock?: Clock;
}

export interface BatcherStats {
  /** Model calls made. */
  batches: number;
  /** Images predicted. */
  images: number;
  /** Largest batch so far. */
  largestBatch: number;
  /** Images refused because the queue was full. */
  rejected: number;
  /** Images waiting or being predicted now. */
  queued: number;
  /** Model calls running now. */
  running: number;
}

/** What one request hands the model: decoded pixels, or the encoded bytes for a predictor that decodes itself. */
export type ModelInput = RgbImage | Uint8Array;

interface Pending {
  image: ModelInput;
  resolve(probabilities: number[]): void;
  reject(error: Error): void;
}

/**
 * The reason a batch's timeout timer is stopped with. AbortController.abort() without one builds a
 * DOMException, stack trace included, for every batch: 5 % of the endpoint's busy CPU in a 1-client profile.
 */
const BATCH_SETTLED = Object.freeze({ reason: 'the batch settled' });

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new ModelServerConfigError(`${name}: expected a positive integer, got ${value}`);
  return value;
}

/**
 * Turns concurrent single-image requests into batched model calls, first come first served. At
 * most `concurrency` model calls run at a time, and the images that queue up meanwhile become the
 * next batch: latency stays that of one image when idle, and throughput grows with load. A new
 * batch always starts from a fresh event-loop turn, so a model that computes on this thread still
 * lets `/ping` and new requests in between two batches.
 */
export class MicroBatcher {
  private readonly maxBatchSize: number;
  private readonly maxDelayMs: number;
  private readonly maxQueue: number;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly clock: Clock;
  private readonly waiting: Pending[] = [];
  private inFlight = 0;
  private running = 0;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];
  private readonly counters = { batches: 0, images: 0, largestBatch: 0, rejected: 0 };

  constructor(
    private readonly predictor: Predictor,
    options: MicroBatcherOptions = {},
  ) {
    this.maxBatchSize = positiveInteger('maxBatchSize', options.maxBatchSize ?? 32);
    this.maxQueue = positiveInteger('maxQueue', options.maxQueue ?? 256);
    this.timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? 60_000);
    this.concurrency = positiveInteger('concurrency', options.concurrency ?? predictor.concurrency ?? 1);
    this.maxDelayMs = options.maxDelayMs ?? 0;
    if (!(this.maxDelayMs >= 0)) throw new ModelServerConfigError(`maxDelayMs: expected a number >= 0, got ${options.maxDelayMs}`);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Class probabilities of one image (pixels, or PNG/JPEG bytes when the predictor has
   * `predictEncoded`). Rejects with QueueFullError at once when the queue is full.
   */
  predict(image: ModelInput): Promise<number[]> {
    if (image instanceof Uint8Array && !this.predictor.predictEncoded) {
      return Promise.reject(new ModelServerConfigError('this model takes decoded images only (it has no predictEncoded)'));
    }
    if (this.waiting.length + this.inFlight >= this.maxQueue) {
      this.counters.rejected++;
      return Promise.reject(new QueueFullError(`${this.maxQueue} images are already waiting for the model; try again shortly`));
    }
    return new Promise<number[]>((resolve, reject) => {
      this.waiting.push({ image, resolve, reject });
      this.schedule();
    });
  }

  stats(): BatcherStats {
    return { ...this.counters, queued: this.waiting.length + this.inFlight, running: this.running };
  }

  /** Resolves once nothing is waiting or being predicted. */
  idle(): Promise<void> {
    if (this.waiting.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.concurrency || this.waiting.length === 0) return;
    this.scheduled = true;
    const start = () => {
      this.scheduled = false;
      if (this.running >= this.concurrency || this.waiting.length === 0) return;
      void this.runBatch();
      this.schedule();
    };
    // A full batch goes at once; otherwise the batch waits for company only if asked to.
    if (this.maxDelayMs > 0 && this.waiting.length < this.maxBatchSize) void this.clock.sleep(this.maxDelayMs).then(start);
    else setImmediate(start);
  }

  private async runBatch(): Promise<void> {
    const batch = this.waiting.splice(0, this.maxBatchSize);
    this.running++;
    this.inFlight += batch.length;
    this.counters.batches++;
    this.counters.images += batch.length;
    this.counters.largestBatch = Math.max(this.counters.largestBatch, batch.length);
    try {
      const outputs = await this.callModel(batch.map((p) => p.image));
      batch.forEach((pending, i) => {
        const output = outputs[i];
        if (output instanceof Error) pending.reject(output);
        else pending.resolve(output);
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error as Error);
    } finally {
      this.running--;
      this.inFlight -= batch.length;
    }
    if (this.waiting.length > 0) this.schedule();
    else if (this.running === 0) this.settleIdle();
  }

  private settleIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** One model call, bounded in time, with its answer checked: one probability array per image. */
  private async callModel(images: ModelInput[]): Promise<Array<number[] | Error>> {
    const stopTimer = new AbortController();
    const timeout = this.clock.sleep(this.timeoutMs, stopTimer.signal).then(() => {
      if (!stopTimer.signal.aborted) throw new InferenceTimeoutError(`the model did not answer within ${this.timeoutMs} ms (batch of ${images.length})`);
    });
    let outputs: Array<number[] | Error>;
    try {
      // A batch is all pixels or all bytes: the server chooses one form per predictor.
      if (!images.every((image) => image instanceof Uint8Array === images[0] instanceof Uint8Array)) {
        throw new ModelServerConfigError('a batch mixes decoded images and encoded bytes');
      }
      const call = () => (images[0] instanceof Uint8Array ? this.predictEncoded(images as Uint8Array[]) : this.predictor.predictImages(images as RgbImage[]));
      outputs = await Promise.race([Promise.resolve().then(call), timeout.then(() => [])]);
    } catch (error) {
      if (error instanceof InferenceTimeoutError) throw error;
      throw new ModelInferenceError(`the model failed on a batch of ${images.length}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    } finally {
      stopTimer.abort(BATCH_SETTLED);
    }
    const classes = this.predictor.classNames.length;
    if (!Array.isArray(outputs) || outputs.length !== images.length) {
      throw new ModelInferenceError(`the model answered ${Array.isArray(outputs) ? outputs.length : typeof outputs} results for ${images.length} images`);
    }
    outputs.forEach((row, i) => {
      if (row instanceof Error) return;
      if (!Array.isArray(row) || row.length !== classes || !row.every((p) => Number.isFinite(p))) {
        throw new ModelInferenceError(`the model's answer for image ${i} is not ${classes} finite probabilities`);
      }
    });
    return outputs;
  }

  private predictEncoded(images: Uint8Array[]): Promise<Array<number[] | Error>> {
    const { predictor } = this;
    if (!predictor.predictEncoded) throw new ModelServerConfigError('this model takes decoded images only');
    return predictor.predictEncoded(images);
  }
}
