// The endpoint under test in the model-server benchmark, in its own process (so each configuration
// gets a fresh TensorFlow.js backend, e.g. with or without wasm threads):
//   SCONES_TFJS_THREADS=0|1 node tools/run-ts.js libs/model-server/bench/bench-server.ts '<json options>'
// Prints one JSON line when serving ({url, backend, times, job}), one with its stats on SIGUSR2, and
// one after SIGTERM (graceful stop: capture written).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backendInfo, decodeImage, loadClassifier, type Classifier, type RgbImage } from '@scones/image-classifier';
import { createS3Client } from '@scones/local-cloud';
import { DataCaptureWriter, ModelServer, S3CaptureSink, type Predictor } from '../src';

interface Options {
  modelDir: string;
  /** Serve a stand-in that answers at once instead of the model: the server's own cost. */
  nullModel?: boolean;
  endpointName: string;
  maxBatchSize: number;
  s3Endpoint: string;
  pngDir: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** In-process model time, without HTTP: one image at a time, and per image in a batch of 32. */
async function modelTimes(classifier: Classifier, images: RgbImage[]): Promise<{ singleMs: number; batch32PerImageMs: number }> {
  const single: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t0 = performance.now();
    await classifier.predictImages([images[i % images.length]]);
    single.push(performance.now() - t0);
  }
  const batch: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    await classifier.predictImages(images.slice(0, 32));
    batch.push((performance.now() - t0) / 32);
  }
  return { singleMs: median(single), batch32PerImageMs: median(batch) };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as Options;
  const classifier = await loadClassifier(options.modelDir);
  const files = (await readdir(options.pngDir)).filter((f) => f.endsWith('.png')).sort().slice(0, 32);
  const images = await Promise.all(files.map(async (f) => decodeImage(await readFile(join(options.pngDir, f)))));
  const times = options.nullModel ? { singleMs: 0, batch32PerImageMs: 0 } : await modelTimes(classifier, images);
  const capture = new DataCaptureWriter({ endpointName: options.endpointName, sink: new S3CaptureSink(createS3Client({ kind: 'local', s3Endpoint: options.s3Endpoint }), 'scones') });
  const predictor: Predictor = options.nullModel ? { classNames: classifier.classNames, predictImages: async (batch) => batch.map(() => [0.5, 0.5]) } : classifier;
  const server = new ModelServer({ endpointName: options.endpointName, predictor, capture, batching: { maxBatchSize: options.maxBatchSize, maxQueue: 1024 } });
  const url = await server.listen();
  const backend = await backendInfo();
  process.stdout.write(`${JSON.stringify({ url, backend, times, job: classifier.manifest.jobName })}\n`);
  // A stats snapshot between phases (SIGUSR2), the final stats after a graceful stop (SIGTERM).
  process.on('SIGUSR2', () => process.stdout.write(`${JSON.stringify({ stats: server.stats() })}\n`));
  process.once('SIGTERM', () => {
    server.close().then(
      () => {
        process.stdout.write(`${JSON.stringify({ stats: server.stats() })}\n`);
        classifier.dispose();
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`bench-server: close failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-server: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
