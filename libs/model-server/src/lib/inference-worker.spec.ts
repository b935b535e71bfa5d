import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClassifier, type Classifier } from '@scones/image-classifier';
import { writeFixtureArtifact } from '@scones/image-classifier/testing';
import { bundleForTest } from '../../test/bundle';
import { solidPng } from '../../test/fake-predictor';
import { waitFor } from '../../test/virtual-clock';
import { ModelInferenceError, ModelServerConfigError } from '../errors';
import { InferenceWorkerPool, isInferenceWorker, startInferenceWorkers } from './inference-worker';
import { MicroBatcher } from './micro-batcher';
import { ModelServer } from './model-server';
import { crc32, deflateSync } from 'node:zlib';

// Real worker threads running a bundled entry (as the endpoint app runs its own bundle), with a
// real model artifact.
describe('inference workers', () => {
  let work: string;
  let bundle: { file: string; dir: string };
  let modelDirectory: string;
  let classifier: Classifier;
  const pools: InferenceWorkerPool[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'scones-inference-worker-'));
    modelDirectory = join(work, 'model');
    [bundle] = await Promise.all([bundleForTest(join(__dirname, '../../test/inference-worker-entry.ts')), writeFixtureArtifact(modelDirectory)]);
    classifier = await loadClassifier(modelDirectory);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.dispose()));
    classifier?.dispose();
    await rm(work, { recursive: true, force: true });
    if (bundle) await rm(bundle.dir, { recursive: true, force: true });
  });

  it('predicts what the classifier predicts in process, on the SIMD wasm build, one call per worker at a time', async () => {
    const pool = await startInferenceWorkers({ script: bundle.file, modelDirectory, workers: 2 });
    pools.push(pool);
    expect(pool.concurrency).toBe(2);
    expect(pool.classNames).toEqual(['bicycle', 'motorcycle']);
    expect(pool.info).toMatchObject({ jobName: 'fixture-job', backend: { name: 'wasm', threads: 1, simd: true } });
    const images = [solidPng(10).image, solidPng(120).image, solidPng(250).image, solidPng(60, 64).image];
    const expected = await classifier.predictImages(images);
    // Two calls at once (one per worker), as the batcher makes them.
    const [first, second] = await Promise.all([pool.predictImages(images.slice(0, 3)), pool.predictImages(images.slice(3))]);
    [...first, ...second].forEach((row, i) => row.forEach((p, c) => expect(p).toBeCloseTo(expected[i][c], 5)));
    const batcher = new MicroBatcher(pool, { maxBatchSize: 2 });
    const answers = await Promise.all(images.map((image) => batcher.predict(image)));
    answers.forEach((row, i) => row.forEach((p, c) => expect(p).toBeCloseTo(expected[i][c], 5)));
    expect(isInferenceWorker()).toBe(false);
  }, 60_000);

  it('fails the batch of a worker that dies with ModelInferenceError, and serves the next one from a new worker', async () => {
    const pool = await startInferenceWorkers({ script: bundle.file, modelDirectory });
    pools.push(pool);
    const image = solidPng(99).image;
    const slots = (pool as unknown as { slots: Array<{ worker: { terminate(): Promise<number> } }> }).slots;
    const call = pool.predictImages([image]);
    await slots[0].worker.terminate();
    await expect(call).rejects.toThrow(new ModelInferenceError('the inference worker exited with code 1'));
    await waitFor('a replacement worker', () => slots.length === 1, 30_000);
    expect(pool.healthy).toBe(true);
    const [row] = await pool.predictImages([image]);
    const [expected] = await classifier.predictImages([image]);
    expect(row[0]).toBeCloseTo(expected[0], 5);
  }, 60_000);

  it('decodes in the worker when serving: the HTTP thread hands over the bytes; bad images fail alone with 400', async () => {
    const pool = await startInferenceWorkers({ script: bundle.file, modelDirectory });
    pools.push(pool);
    const server = new ModelServer({ endpointName: 'worker-test', predictor: pool });
    const url = await server.listen();
    try {
      const good = [solidPng(30), solidPng(200, 64)];
      const expected = await classifier.predictImages(good.map((g) => g.image));
      const chunk = (type: string, data: Buffer) => {
        const head = Buffer.from([0, 0, 0, 0, ...Buffer.from(type, 'latin1')]);
        head.writeUInt32BE(data.length, 0);
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
        return Buffer.concat([head, data, crc]);
      };
      const ihdr = Buffer.from([0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 2, 0, 0, 0]); // 20000x20000 RGB
      const bomb = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(10))), chunk('IEND', Buffer.alloc(0))]);
      const post = (body: Uint8Array) => fetch(`${url}/invocations`, { method: 'POST', body, headers: { 'content-type': 'image/png' } });
      const answers = await Promise.all([post(good[0].png), post(bomb), post(Buffer.from('hello')), post(good[1].png)]);
      expect(answers.map((a) => a.status)).toEqual([200, 400, 400, 200]);
      const bodies = await Promise.all(answers.map((a) => a.json() as Promise<unknown>));
      expect(bodies[1]).toEqual({ code: 400, type: 'ImageDecodeError', message: 'ImageDecodeError: PNG too large: its header declares 20000x20000 pixels, the limit is 4096x4096' });
      expect(bodies[2]).toMatchObject({ message: 'ImageDecodeError: not a PNG or JPEG image (5 bytes, starts with 68656c6c)' });
      [bodies[0], bodies[3]].forEach((row, i) => (row as number[]).forEach((p, c) => expect(p).toBeCloseTo(expected[i][c], 5)));
      expect(server.stats().responses).toEqual({ '200': 2, '400': 2 });
    } finally {
      await server.close();
    }
  }, 60_000);

  it('names the problem when the model cannot be loaded or the script does not serve', async () => {
    await expect(startInferenceWorkers({ script: bundle.file, modelDirectory: join(work, 'missing') })).rejects.toThrow(/manifest\.json/);
    const idle = join(work, 'idle.js');
    await writeFile(idle, '// does not call serveInferenceWorker()\n');
    await expect(startInferenceWorkers({ script: idle, modelDirectory })).rejects.toThrow(
      new ModelServerConfigError(`the inference worker exited with code 0 before loading the model: does ${idle} call serveInferenceWorker() when isInferenceWorker()?`),
    );
    await expect(startInferenceWorkers({ script: bundle.file, modelDirectory, workers: 0 })).rejects.toThrow('workers: expected a positive integer, got 0');
  }, 60_000);
});
