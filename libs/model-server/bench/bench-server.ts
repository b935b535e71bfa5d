// The endpoint under test in the model-server benchmark, in its own process (so each configuration
// gets a fresh TensorFlow.js backend):
//   node tools/run-ts.js libs/model-server/bench/bench-server.ts '<json options>'
// Prints one JSON line when serving ({url, pid, backend, times, job}), one with its stats on
// SIGUSR2, and one after SIGTERM (graceful stop: capture written). This file is also the script of
// its inference workers.
import { mkdtemp } from 'node:fs/promises';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendInfo, decodeImage, loadClassifier, type RgbImage } from '@scones/image-classifier';
import { createS3Client } from '@scones/local-cloud';
import { DataCaptureWriter, isInferenceWorker, ModelServer, S3CaptureSink, serveInferenceWorker, servingThreads, startInferenceWorkers, type Predictor } from '../src';

interface Options {
  modelDir: string;
  /** Serve a stand-in that answers at once instead of the model: the server's own cost. */
  nullModel?: boolean;
  endpointName: string;
  maxBatchSize: number;
  s3Endpoint: string;
  pngDir: string;
  /** Inference worker threads; 0: the model runs on the HTTP thread. */
  workers: number;
  /** Spool capture records locally before answering (a fresh directory). */
  spool: boolean;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Model time without HTTP: one image at a time, and per image in a batch of 32. */
async function modelTimes(predictor: Predictor, images: RgbImage[]): Promise<{ singleMs: number; batch32PerImageMs: number }> {
  const single: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t0 = performance.now();
    await predictor.predictImages([images[i % images.length]]);
    single.push(performance.now() - t0);
  }
  const batch: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    await predictor.predictImages(images.slice(0, 32));
    batch.push((performance.now() - t0) / 32);
  }
  return { singleMs: median(single), batch32PerImageMs: median(batch) };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as Options;
  const files = (await readdir(options.pngDir)).filter((f) => f.endsWith('.png')).sort().slice(0, 32);
  const images = await Promise.all(files.map(async (f) => decodeImage(await readFile(join(options.pngDir, f)))));
  let model: Predictor & { dispose(): unknown };
  let backend: unknown;
  let job: string;
  if (options.workers > 0) {
    const pool = await startInferenceWorkers({ script: __filename, modelDirectory: options.modelDir, workers: options.workers });
    model = pool;
    backend = pool.info.backend;
    job = pool.info.jobName;
  } else {
    // As the endpoint starts it (apps/endpoint, the stack's endpoint worker): one wasm thread unless
    // SCONES_TFJS_THREADS says otherwise. loadClassifier alone would start two on a 2-core machine.
    backend = await backendInfo({ threads: servingThreads() });
    const classifier = await loadClassifier(options.modelDir);
    model = classifier;
    job = classifier.manifest.jobName;
  }
  const times = options.nullModel ? { singleMs: 0, batch32PerImageMs: 0 } : await modelTimes(model, images);
  const spoolDirectory = options.spool ? await mkdtemp(join(tmpdir(), 'scones-bench-spool-')) : undefined;
  const capture = new DataCaptureWriter({
    endpointName: options.endpointName,
    sink: new S3CaptureSink(createS3Client({ kind: 'local', s3Endpoint: options.s3Endpoint }), 'scones'),
    spoolDirectory,
  });
  const predictor: Predictor = options.nullModel ? { classNames: model.classNames, predictImages: async (batch) => batch.map(() => [0.5, 0.5]) } : model;
  const server = new ModelServer({ endpointName: options.endpointName, predictor, capture, batching: { maxBatchSize: options.maxBatchSize, maxQueue: 1024 } });
  const url = await server.listen();
  process.stdout.write(`${JSON.stringify({ url, pid: process.pid, backend, times, job })}\n`);
  process.on('SIGUSR2', () => process.stdout.write(`${JSON.stringify({ stats: server.stats() })}\n`));
  process.once('SIGTERM', () => {
    server.close().then(
      async () => {
        process.stdout.write(`${JSON.stringify({ stats: server.stats() })}\n`);
        await model.dispose();
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`bench-server: close failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  });
}

if (isInferenceWorker()) {
  serveInferenceWorker();
} else {
  main().catch((error: unknown) => {
    process.stderr.write(`bench-server: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
