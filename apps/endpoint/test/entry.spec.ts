// The container entry as the image runs it: the bundle built with the options of project.json, in
// its own Node process, configured only by arguments and environment, stopped with SIGTERM.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { encodePng } from '@scones/image-classifier';
import { sageMakerRuntimeClientConfig } from '@scones/local-cloud';
import { dataCaptureRecordSchema, inferenceOutputSchema, parseJsonOrThrow, parseOrThrow } from '@scones/payload-schemas';
import type { Bundle } from '../../../tools/lambda-bundles';
import { writeFixtureArtifact } from '@scones/image-classifier/testing';
import { buildEndpointBundle, startEndpoint as start, until } from './endpoint-process';

const CONTAINER_DIR = join(__dirname, '../container');

const png = (red: number) => encodePng({ width: 32, height: 32, data: new Uint8Array(32 * 32 * 3).map((_, i) => (i % 3 === 0 ? red : (i * 7) % 256)) });

describe('endpoint container entry', () => {
  let work: string;
  let bundle: Bundle;
  let modelDir: string;
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'scones-endpoint-app-'));
    modelDir = join(work, 'model');
    [bundle] = await Promise.all([buildEndpointBundle(work), writeFixtureArtifact(modelDir)]);
  }, 120_000);
  afterAll(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
    await rm(work, { recursive: true, force: true });
  });

  it('needs at run time only the npm packages the container installs, at the workspace versions', () => {
    const container = JSON.parse(readFileSync(join(CONTAINER_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    // Node built-ins aside; the CRT signer is an optional require the SDK guards with try/catch.
    const npm = bundle.runtimeRequires.filter((m) => !m.startsWith('node:') && !/^[a-z_]+$/.test(m) && m !== '@aws-sdk/signature-v4-crt');
    const packages = [...new Set(npm.map((m) => m.split('/').slice(0, m.startsWith('@') ? 2 : 1).join('/')))];
    expect(packages.sort()).toEqual(Object.keys(container.dependencies).sort());
    for (const [name, version] of Object.entries(container.dependencies)) {
      expect(`${name}@${JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version}`).toBe(`${name}@${version}`);
    }
  });

  it('has a Dockerfile that copies what the build writes, runs as a non-root user and serves on 8080', () => {
    const dockerfile = readFileSync(join(CONTAINER_DIR, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:22-slim$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^EXPOSE 8080$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "--enable-source-maps", "\/opt\/program\/main\.js"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["serve"\]$/m);
    const copied = [...dockerfile.matchAll(/^COPY (.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
    expect(copied.sort()).toEqual(['main.js', 'main.js.map', 'package.json']);
    // The build writes main.js (+ map) and copies package.json and the Dockerfile from container/.
    expect(existsSync(join(CONTAINER_DIR, 'package.json'))).toBe(true);
    expect(existsSync(`${bundle.file}.map`)).toBe(true);
  });

  it('serves `serve`: /ping, /invocations and the Runtime API; SIGTERM writes the capture and exits 0', async () => {
    const captureDir = join(work, 'capture');
    const app = start(bundle, ['serve'], {
      PORT: '0',
      SCONES_HOST: '127.0.0.1',
      SCONES_MODEL_DIR: modelDir,
      SCONES_ENDPOINT_NAME: 'container-test',
      SCONES_CAPTURE: captureDir,
      SCONES_CAPTURE_FLUSH_MS: '3600000',
    });
    running.push(app.child);
    const url = await until('the listening log line', () => app.logs.find((l) => l.message === 'model server listening')?.url as string | undefined);
    await until('/ping 200', async () => ((await fetch(`${url}/ping`)).status === 200 ? true : undefined));

    const direct = await fetch(`${url}/invocations`, { method: 'POST', body: png(30), headers: { 'content-type': 'image/png' } });
    expect(direct.status).toBe(200);
    expect(direct.headers.get('x-amzn-invoked-production-variant')).toBe('AllTraffic');
    parseJsonOrThrow(inferenceOutputSchema, await direct.text(), '/invocations answer');
    const client = new SageMakerRuntimeClient({ ...sageMakerRuntimeClientConfig({ kind: 'local', s3Endpoint: url, sagemakerRuntimeEndpoint: url }), maxAttempts: 1 });
    const answers = await Promise.all([60, 90, 120].map((red) => client.send(new InvokeEndpointCommand({ EndpointName: 'container-test', ContentType: 'image/png', Body: png(red) }))));
    for (const answer of answers) parseJsonOrThrow(inferenceOutputSchema, Buffer.from(answer.Body!).toString(), 'InvokeEndpoint answer');
    expect((await fetch(`${url}/invocations`, { method: 'POST', body: 'nope', headers: { 'content-type': 'image/png' } })).status).toBe(400);

    // Nothing written yet (the flush interval is an hour): SIGTERM must write all four records.
    expect(existsSync(captureDir)).toBe(false);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    const files = (await readdir(captureDir, { recursive: true })).filter((f) => f.endsWith('.jsonl'));
    const records = (await Promise.all(files.map((f) => readFile(join(captureDir, f), 'utf8'))))
      .flatMap((body) => body.trimEnd().split('\n'))
      .map((line) => parseOrThrow(dataCaptureRecordSchema, JSON.parse(line), 'capture record'));
    expect(records).toHaveLength(4);
    expect(files.every((f) => f.startsWith(join('data_capture', 'container-test', 'AllTraffic')))).toBe(true);
    expect(app.logs.map((l) => l.message)).toEqual(expect.arrayContaining(['model loaded; endpoint ready', 'stopping', 'model server stopped']));
    expect(app.logs.find((l) => l.message === 'TensorFlow.js backend ready')).toMatchObject({ backend: { name: 'wasm', threads: 1 } });
    expect(app.logs.find((l) => l.message === 'model server stopped')).toMatchObject({ responses: { '200': 4, '400': 1 }, capture: { captured: 4, written: 4, pending: 0 } });
  }, 60_000);

  it('exits 2 naming the problem for another command, and 1 when the model cannot be loaded', async () => {
    const train = start(bundle, ['train'], {});
    running.push(train.child);
    expect(await train.exited).toBe(2);
    expect(train.stderr()).toContain('unknown command "train": this image only serves');

    const missing = start(bundle, ['serve'], { PORT: '0', SCONES_HOST: '127.0.0.1', SCONES_MODEL_DIR: join(work, 'no-model') });
    running.push(missing.child);
    expect(await missing.exited).toBe(1);
    expect(missing.logs.find((l) => l.message === 'model could not be loaded')).toMatchObject({ level: 'error', error: { message: expect.stringContaining('manifest.json') } });
  }, 60_000);
});
