import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, decodeImage, ImageDecodeError, loadClassifier, type Classifier, type RgbImage } from '@scones/image-classifier';
import { ModelInferenceError, ModelServerConfigError } from '../errors';
import { silentLogger, type Logger } from '@scones/stack-core';
import { servingThreads } from './model-endpoint';
import type { Predictor } from './predictor';

/*
 * The model runs in worker threads, off the event loop that serves HTTP: /ping and new requests
 * are answered while a batch computes, and with two workers two batches compute at once. A worker
 * runs a script the caller names (`script`), which must hand over to serveInferenceWorker() when
 * isInferenceWorker() — typically the entry's own file, so it works the same from an esbuild
 * bundle (one file, `__filename`) as from the sources:
 *
 *   if (isInferenceWorker()) serveInferenceWorker();
 *   else main();
 */

const WORKER_MARK = 'sconesInferenceWorker';

export interface InferenceWorkerOptions {
  /** The JavaScript file each worker runs (see above), e.g. `__filename` of a bundled entry. */
  script: string;
  /** Model artifact directory (manifest.json, model.json, weights.bin). */
  modelDirectory: string;
  /** Inference workers: model calls that run at once. Default 1. */
  workers?: number;
  /** TensorFlow.js wasm threads inside each worker. Default {@link servingThreads}: off unless `SCONES_TFJS_THREADS` says. */
  threads?: boolean;
  /** How long a worker may take to load the model, in ms. Default 120 s. */
  startTimeoutMs?: number;
  logger?: Logger;
}

/** What a worker reports once its model is loaded. */
export interface InferenceWorkerInfo {
  classNames: string[];
  jobName: string;
  backend: { name: string; threads: number; simd: boolean; threadsFallback?: string };
}

interface WorkerSetup {
  [WORKER_MARK]: true;
  modelDirectory: string;
  threads?: boolean;
}

interface ErrorText {
  name: string;
  message: string;
}
type ToWorker = { type: 'predict'; id: number; images: RgbImage[] } | { type: 'predictEncoded'; id: number; images: Uint8Array[] };
type FromWorker =
  | ({ type: 'ready' } & InferenceWorkerInfo)
  | { type: 'failed'; error: ErrorText }
  | { type: 'result'; id: number; probabilities?: Array<number[] | ErrorText>; error?: ErrorText };

/** Decodes what it can, predicts those in one call; an image that cannot be decoded gets its error in its place. */
async function decodeAndPredict(classifier: Classifier, encoded: Uint8Array[]): Promise<Array<number[] | ErrorText>> {
  const out: Array<number[] | ErrorText> = new Array(encoded.length);
  const decoded: RgbImage[] = [];
  const at: number[] = [];
  encoded.forEach((bytes, i) => {
    try {
      decoded.push(decodeImage(bytes));
      at.push(i);
    } catch (error) {
      if (!(error instanceof ImageDecodeError)) throw error;
      out[i] = { name: error.name, message: error.message };
    }
  });
  const rows = decoded.length ? await classifier.predictImages(decoded) : [];
  rows.forEach((row, k) => (out[at[k]] = row));
  return out;
}

/** True in a thread started by {@link startInferenceWorkers}. */
export function isInferenceWorker(): boolean {
  return !isMainThread && (workerData as Partial<WorkerSetup> | undefined)?.[WORKER_MARK] === true;
}

/** The worker side: loads the model, then predicts each batch it is sent. Call only when {@link isInferenceWorker}. */
export function serveInferenceWorker(): void {
  const port = parentPort;
  if (!isInferenceWorker() || !port) throw new ModelServerConfigError('serveInferenceWorker() runs only in a thread started by startInferenceWorkers()');
  const setup = workerData as WorkerSetup;
  const fail = (error: unknown) => ({ name: (error as Error)?.name ?? 'Error', message: (error as Error)?.message ?? String(error) });
  let classifier: Classifier;
  (async () => {
    const backend = await backendInfo({ threads: setup.threads });
    classifier = await loadClassifier(setup.modelDirectory);
    // The wasm backend picks its SIMD build when the runtime supports it; say which one runs.
    const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
    port.on('message', (message: ToWorker) => {
      const work = message.type === 'predict' ? classifier.predictImages(message.images) : decodeAndPredict(classifier, message.images);
      work.then(
        (probabilities) => port.postMessage({ type: 'result', id: message.id, probabilities } satisfies FromWorker),
        (error: unknown) => port.postMessage({ type: 'result', id: message.id, error: fail(error) } satisfies FromWorker),
      );
    });
    port.postMessage({ type: 'ready', classNames: classifier.classNames, jobName: classifier.manifest.jobName, backend: { ...backend, simd } } satisfies FromWorker);
  })().catch((error: unknown) => port.postMessage({ type: 'failed', error: fail(error) } satisfies FromWorker));
}

interface Slot {
  worker: Worker;
  busy: boolean;
  calls: Map<number, { resolve(rows: Array<number[] | ImageDecodeError>): void; reject(error: Error): void }>;
}

/**
 * A {@link Predictor} whose model runs in worker threads (one model call per worker at a time).
 * A worker that dies fails its batch with ModelInferenceError and is replaced.
 */
export class InferenceWorkerPool implements Predictor {
  readonly concurrency: number;
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;
  private constructor(
    private readonly options: InferenceWorkerOptions & { workers: number; startTimeoutMs: number; logger: Logger },
    readonly info: InferenceWorkerInfo,
  ) {
    this.concurrency = options.workers;
  }

  get classNames(): readonly string[] {
    return this.info.classNames;
  }

  /** At least one worker is running (a lost one is being replaced otherwise). */
  get healthy(): boolean {
    return !this.closed && this.slots.length > 0;
  }

  /** Starts the workers and waits until each has loaded the model. */
  static async start(options: InferenceWorkerOptions): Promise<InferenceWorkerPool> {
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new ModelServerConfigError(`workers: expected a positive integer, got ${options.workers}`);
    const resolved = { ...options, workers, threads: options.threads ?? servingThreads(), startTimeoutMs: options.startTimeoutMs ?? 120_000, logger: options.logger ?? silentLogger };
    const started = await Promise.allSettled(Array.from({ length: workers }, () => InferenceWorkerPool.spawn(resolved)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    const ok = started.filter((s): s is PromiseFulfilledResult<{ worker: Worker; info: InferenceWorkerInfo }> => s.status === 'fulfilled').map((s) => s.value);
    if (failed) {
      await Promise.all(ok.map(({ worker }) => worker.terminate()));
      throw failed.reason;
    }
    const pool = new InferenceWorkerPool(resolved, ok[0].info);
    for (const { worker } of ok) pool.adopt(worker);
    return pool;
  }

  private static spawn(options: InferenceWorkerOptions & { startTimeoutMs: number }): Promise<{ worker: Worker; info: InferenceWorkerInfo }> {
    return new Promise((resolve, reject) => {
      const setup: WorkerSetup = { [WORKER_MARK]: true, modelDirectory: options.modelDirectory, threads: options.threads };
      let worker: Worker;
      try {
        worker = new Worker(options.script, { workerData: setup, stdout: false, stderr: false });
      } catch (error) {
        reject(new ModelServerConfigError(`cannot start an inference worker from ${options.script}: ${(error as Error).message}`, { cause: error }));
        return;
      }
      const timer = setTimeout(() => {
        cleanup();
        void worker.terminate();
        reject(new ModelServerConfigError(`the inference worker did not load the model within ${options.startTimeoutMs} ms`));
      }, options.startTimeoutMs);
      const onMessage = (message: FromWorker) => {
        if (message.type === 'ready') {
          cleanup();
          resolve({ worker, info: { classNames: message.classNames, jobName: message.jobName, backend: message.backend } });
        } else if (message.type === 'failed') {
          cleanup();
          void worker.terminate();
          reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
        }
      };
      const onError = (error: Error) => {
        cleanup();
        reject(new ModelServerConfigError(`the inference worker (${options.script}) failed while starting: ${error.message}`, { cause: error }));
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new ModelServerConfigError(`the inference worker exited with code ${code} before loading the model: does ${options.script} call serveInferenceWorker() when isInferenceWorker()?`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
    });
  }

  private adopt(worker: Worker): void {
    const slot: Slot = { worker, busy: false, calls: new Map() };
    this.slots.push(slot);
    worker.on('message', (message: FromWorker) => {
      if (message.type !== 'result') return;
      const call = slot.calls.get(message.id);
      if (!call) return;
      slot.calls.delete(message.id);
      slot.busy = slot.calls.size > 0;
      if (message.error) call.reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
      else call.resolve((message.probabilities ?? []).map((row) => (Array.isArray(row) ? row : new ImageDecodeError(row.message))));
    });
    const lost = (why: string) => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      this.slots.splice(index, 1);
      for (const call of slot.calls.values()) call.reject(new ModelInferenceError(`the inference worker ${why}`));
      slot.calls.clear();
      if (this.closed) return;
      this.options.logger.error('inference worker lost; starting another', { why });
      InferenceWorkerPool.spawn(this.options).then(
        ({ worker: replacement }) => (this.closed ? void replacement.terminate() : this.adopt(replacement)),
        (error: unknown) => this.options.logger.error('inference worker could not be replaced', { error }),
      );
    };
    worker.on('error', (error) => lost(`failed: ${error.message}`));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
  }

  async predictImages(images: RgbImage[]): Promise<number[][]> {
    const rows = await this.call({ type: 'predict', id: this.nextId++, images });
    return rows.map((row) => {
      if (row instanceof Error) throw new ModelInferenceError(`the inference worker answered an error for a decoded image: ${row.message}`);
      return row;
    });
  }

  /** Decodes (in the worker) and predicts PNG/JPEG bytes; an undecodable image gets its ImageDecodeError in its place. */
  predictEncoded(images: Uint8Array[]): Promise<Array<number[] | ImageDecodeError>> {
    return this.call({ type: 'predictEncoded', id: this.nextId++, images });
  }

  private call(message: ToWorker): Promise<Array<number[] | ImageDecodeError>> {
    if (this.closed) return Promise.reject(new ModelInferenceError('the inference workers are stopped'));
    const slot = this.slots.find((s) => !s.busy) ?? this.slots.reduce<Slot | undefined>((a, s) => (!a || s.calls.size < a.calls.size ? s : a), undefined);
    if (!slot) return Promise.reject(new ModelInferenceError('no inference worker is running'));
    slot.busy = true;
    return new Promise((resolve, reject) => {
      slot.calls.set(message.id, { resolve, reject });
      slot.worker.postMessage(message);
    });
  }

  /** Stops the workers; calls in progress fail. */
  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }
}

/** Starts `workers` inference workers serving the model of `modelDirectory` (see {@link InferenceWorkerPool}). */
export function startInferenceWorkers(options: InferenceWorkerOptions): Promise<InferenceWorkerPool> {
  return InferenceWorkerPool.start(options);
}
