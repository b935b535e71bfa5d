import { DataCaptureWriter, type DataCaptureOptions } from './data-capture-writer';
import { silentLogger } from '@scones/stack-core';
import { ModelServer, type ListenOptions, type ModelServerOptions } from './model-server';
import type { Predictor } from './predictor';

export interface ModelEndpointOptions extends Omit<ModelServerOptions, 'predictor' | 'capture'> {
  /**
   * Loads the model. Called once the server listens, so `/ping` answers 503 while it loads.
   * `startInferenceWorkers(...)` keeps the model off the event loop that serves HTTP.
   */
  loadPredictor(): Promise<Predictor & { dispose?(): void | Promise<void> }>;
  listen?: ListenOptions;
  /**
   * Data capture of served requests (endpoint name and logger are the endpoint's). With
   * `spoolDirectory`, records are spooled locally before each answer and what an earlier process
   * of the endpoint left there is uploaded at start.
   */
  capture?: Omit<DataCaptureOptions, 'endpointName' | 'logger'>;
}

export interface ModelEndpoint {
  server: ModelServer;
  /** `http://host:port`. */
  url: string;
  /** `s3://bucket/data_capture` or `<dir>/data_capture`, undefined without capture. */
  captureDestination?: string;
  /** Resolves once the model is loaded and served; rejects if it cannot be loaded. */
  ready: Promise<void>;
  /** Graceful shutdown: finishes requests, writes pending capture, frees the model. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * A running endpoint: the HTTP server listening at once, the model loading behind it, data
 * capture attached. What `scones deploy` and the container entry both run.
 */
export async function startModelEndpoint(options: ModelEndpointOptions): Promise<ModelEndpoint> {
  const { loadPredictor, listen, capture: captureOptions, ...serverOptions } = options;
  const logger = options.logger ?? silentLogger;
  const capture = captureOptions ? new DataCaptureWriter({ ...captureOptions, endpointName: options.endpointName, logger }) : undefined;
  const server = new ModelServer({ ...serverOptions, capture });
  let url: string;
  try {
    url = await server.listen(listen);
  } catch (error) {
    await capture?.close();
    throw error;
  }
  let predictor: (Predictor & { dispose?(): void | Promise<void> }) | undefined;
  const started = performance.now();
  const ready = loadPredictor().then((loaded) => {
    predictor = loaded;
    server.setPredictor(loaded);
    logger.info('model loaded; endpoint ready', { endpoint: options.endpointName, classNames: loaded.classNames, seconds: Math.round(performance.now() - started) / 1000 });
  });
  ready.catch((error: unknown) => logger.error('model could not be loaded', { endpoint: options.endpointName, error }));
  return {
    server,
    url,
    captureDestination: capture?.destination,
    ready,
    async close(closeOptions) {
      try {
        await server.close(closeOptions);
      } finally {
        await predictor?.dispose?.();
      }
    },
  };
}

/**
 * Whether the TensorFlow.js wasm backend of an endpoint should use threads: off, unless
 * `SCONES_TFJS_THREADS` says otherwise (then undefined: the backend reads the variable). Measured
 * with the model-server benchmark: one thread answers a lone request several times faster (no
 * pthread hand-offs per layer) and serves as many requests per second under load, where
 * micro-batching already keeps the core busy.
 */
export function servingThreads(env: NodeJS.ProcessEnv = process.env): boolean | undefined {
  return env.SCONES_TFJS_THREADS?.trim() ? undefined : false;
}
