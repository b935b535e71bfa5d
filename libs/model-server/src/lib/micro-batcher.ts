import type { RgbImage } from '@scones/image-classifier';
import { InferenceTimeoutError, ModelInferenceError, ModelServerConfigError, QueueFullError } from '../errors';
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
}

interface Pending {
  image: RgbImage;
  resolve(probabilities: number[]): void;
  reject(error: Error): void;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new ModelServerConfigError(`${name}: expected a positive integer, got ${value}`);
  return value;
}

/**
 * Turns concurrent single-image requests into batched model calls. One model call runs at a time
 * (the wasm backend computes on this thread, so two calls would only interleave), and the images
 * that queue up meanwhile become the next batch: latency stays that of one image when idle, and
 * throughput grows with load.
 */
export class MicroBatcher {
  private readonly maxBatchSize: number;
  private readonly maxDelayMs: number;
  private readonly maxQueue: number;
  private readonly timeoutMs: number;
  private readonly waiting: Pending[] = [];
  private inFlight = 0;
  private running = false;
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
    this.maxDelayMs = options.maxDelayMs ?? 0;
    if (!(this.maxDelayMs >= 0)) throw new ModelServerConfigError(`maxDelayMs: expected a number >= 0, got ${options.maxDelayMs}`);
  }

  /** Class probabilities of one image. Rejects with QueueFullError at once when the queue is full. */
  predict(image: RgbImage): Promise<number[]> {
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
    return { ...this.counters, queued: this.waiting.length + this.inFlight };
  }

  /** Resolves once nothing is waiting or being predicted. */
  idle(): Promise<void> {
    if (this.waiting.length === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    const start = () => {
      this.scheduled = false;
      void this.runBatch();
    };
    if (this.waiting.length >= this.maxBatchSize) queueMicrotask(start);
    else if (this.maxDelayMs > 0) setTimeout(start, this.maxDelayMs);
    else setImmediate(start);
  }

  private async runBatch(): Promise<void> {
    const batch = this.waiting.splice(0, this.maxBatchSize);
    if (batch.length === 0) return this.settleIdle();
    this.running = true;
    this.inFlight = batch.length;
    this.counters.batches++;
    this.counters.images += batch.length;
    this.counters.largestBatch = Math.max(this.counters.largestBatch, batch.length);
    try {
      const outputs = await this.callModel(batch.map((p) => p.image));
      batch.forEach((pending, i) => pending.resolve(outputs[i]));
    } catch (error) {
      for (const pending of batch) pending.reject(error as Error);
    } finally {
      this.running = false;
      this.inFlight = 0;
    }
    if (this.waiting.length > 0) this.schedule();
    else this.settleIdle();
  }

  private settleIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** One model call, bounded in time, with its answer checked: one probability array per image. */
  private async callModel(images: RgbImage[]): Promise<number[][]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new InferenceTimeoutError(`the model did not answer within ${this.timeoutMs} ms (batch of ${images.length})`)), this.timeoutMs);
    });
    let outputs: number[][];
    try {
      outputs = await Promise.race([Promise.resolve().then(() => this.predictor.predictImages(images)), timeout]);
    } catch (error) {
      if (error instanceof InferenceTimeoutError) throw error;
      throw new ModelInferenceError(`the model failed on a batch of ${images.length}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    const classes = this.predictor.classNames.length;
    if (!Array.isArray(outputs) || outputs.length !== images.length) {
      throw new ModelInferenceError(`the model answered ${Array.isArray(outputs) ? outputs.length : typeof outputs} results for ${images.length} images`);
    }
    outputs.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== classes || !row.every((p) => Number.isFinite(p))) {
        throw new ModelInferenceError(`the model's answer for image ${i} is not ${classes} finite probabilities`);
      }
    });
    return outputs;
  }
}
