// The embedded stack for the workflow's integration test and benchmark: the real Lambda bundles
// (built like `nx build`), the embedded S3 with staged test images and their .lst, and a real HTTP
// endpoint (@scones/model-server) whose predictor answers a planned probability pair per image.
import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { decodeImage, encodePng, type RgbImage } from '@scones/image-classifier';
import { createS3Client, putObjects } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { createModelServer, type ModelServer, type Predictor } from '@scones/model-server';
import { formatLst } from '@scones/payload-schemas';
import { buildLambdaBundle, workspaceScratch } from '../../../tools/lambda-bundles';
import { LOCAL_FUNCTION_NAMES, lambdaBundleFile } from '../src/index';

export const CLASS_NAMES = ['bicycle', 'motorcycle'];

export interface StagedImage {
  key: string;
  label: number;
  png: Buffer;
}

/** Builds the three Lambda bundles into `<dir>/<name>/main.js` and returns the files by function name. */
export async function buildBundles(directory: string): Promise<Record<string, string>> {
  const names = Object.values(LOCAL_FUNCTION_NAMES);
  await Promise.all(names.map((name) => buildLambdaBundle(name, { outdir: join(directory, name) })));
  return Object.fromEntries(names.map((name) => [name, lambdaBundleFile(directory, name)]));
}

export { workspaceScratch };

/** `n` distinct 32x32 images with pseudo-random pixels (CIFAR-sized PNGs), alternating labels. */
export function syntheticImages(n: number, seed = 1): StagedImage[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) & 0xff;
  };
  return Array.from({ length: n }, (_, i) => {
    const label = i % 2;
    const data = new Uint8Array(32 * 32 * 3).map(next);
    const name = `${CLASS_NAMES[label]}_s_${String(i).padStart(6, '0')}.png`;
    return { key: `data/test/${name}`, label, png: encodePng({ width: 32, height: 32, data }) };
  });
}

/** Uploads the images and `data/test.lst` (the .lst lists them relative to `data/test/`). */
export async function stageImages(s3: S3Client, bucket: string, images: readonly StagedImage[]): Promise<void> {
  const lst = formatLst(images.map((image, row) => ({ row, label: image.label, path: image.key.slice('data/test/'.length) })));
  await putObjects(s3, bucket, [...images.map((image) => ({ key: image.key, body: image.png, contentType: 'image/png' })), { key: 'data/test.lst', body: lst }]);
}

const pixelsHash = (image: RgbImage) => createHash('sha1').update(image.data).digest('hex');

/**
 * A predictor that answers the planned probabilities for each staged image (recognised by its
 * decoded pixels), and `fallback` for any other image.
 */
export function plannedPredictor(plan: ReadonlyArray<{ png: Buffer; probabilities: number[] }>, fallback = [0.5, 0.5]): Predictor & { calls: number } {
  const answers = new Map(plan.map(({ png, probabilities }) => [pixelsHash(decodeImage(png)), probabilities]));
  const predictor = {
    classNames: CLASS_NAMES,
    calls: 0,
    async predictImages(images: RgbImage[]) {
      predictor.calls += images.length;
      return images.map((image) => answers.get(pixelsHash(image)) ?? fallback);
    },
  };
  return predictor;
}

/**
 * A pass-through proxy in front of the endpoint that can answer 503 ServiceUnavailable (the
 * SageMaker Runtime's error shape) instead, to make the endpoint briefly unavailable.
 */
export interface FlakyProxy {
  url: string;
  failing: boolean;
  refused: number;
  close(): Promise<void>;
}

export async function startFlakyProxy(targetUrl: string): Promise<FlakyProxy> {
  const target = new URL(targetUrl);
  const proxy: FlakyProxy = { url: '', failing: false, refused: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    if (proxy.failing) {
      proxy.refused++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json', 'x-amzn-ErrorType': 'ServiceUnavailable' });
      res.end(JSON.stringify({ __type: 'ServiceUnavailable', message: 'the endpoint is briefly unavailable' }));
      return;
    }
    const forwarded = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return proxy;
}

export interface LocalStack {
  s3: LocalS3;
  s3Client: S3Client;
  endpoint: ModelServer;
  endpointUrl: string;
  close(): Promise<void>;
}

/** Embedded S3 (scratch directory, bucket `scones`) and a model endpoint named `endpointName`. */
export async function startLocalStack(endpointName: string, predictor: Predictor): Promise<LocalStack> {
  const directory = await mkdtemp(join(tmpdir(), 'workflow-stack-'));
  const s3 = await startLocalS3({ directory, buckets: ['scones'] });
  const endpoint = createModelServer({ endpointName, predictor });
  const endpointUrl = await endpoint.listen();
  return {
    s3,
    s3Client: createS3Client(s3.target),
    endpoint,
    endpointUrl,
    async close() {
      await endpoint.close();
      await s3.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
