import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { initBackend, loadClassifier } from '@scones/image-classifier';
import { createS3Client, createSageMakerClient, EndpointRegistry, processIsAlive, startLocalS3, type LocalS3 } from '@scones/local-cloud';
import { createCaptureSink, createJsonLogger, deployToSageMaker, parseLogLevel, servingThreads, startModelEndpoint, type CaptureDestination, type ModelEndpoint } from '@scones/model-server';
import { findLatestManifestKey } from '@scones/monitor-analytics';
import { endpointNameSchema } from '@scones/payload-schemas';
import { refuseStackForLocal, resolveAwsBucket } from '../cli/aws-bucket';
import { UsageError } from '../cli/errors';
import { runCommand, type CommandContext } from '../cli/run-command';
import type { DeployOptions } from './deploy';

/** Set in the child a `--detach` deploy starts, so it serves instead of detaching again. */
const DETACHED_CHILD_ENV = 'SCONES_DEPLOY_DETACHED_CHILD';

/** `scones deploy` (deploy.ts defines its options); resolves to the exit code. */
export async function deploy(options: DeployOptions, command: Command): Promise<number> {
  let servedUntilStopped = false;
  const code = await runCommand('deploy', options, async (ctx) => {
    checkOptions(options, command);
    refuseStackForLocal(options, command);
    if (options.target === 'aws') {
      options.bucket = await resolveAwsBucket(options, command, 'data capture goes to s3://<bucket>/data_capture', ctx.signal);
      return deployAws(options, ctx);
    }
    if (options.detach && !process.env[DETACHED_CHILD_ENV]) return deployDetached(options, ctx);
    await serveLocal(options, ctx);
    servedUntilStopped = true;
  });
  // A local endpoint runs until it is stopped: stopping it cleanly (capture written) is success.
  return servedUntilStopped ? 0 : code;
}

function checkOptions(options: DeployOptions, command: Command): void {
  const name = endpointNameSchema.safeParse(options.name);
  if (!name.success) throw new UsageError(`--name ${JSON.stringify(options.name)}: expected 1-63 letters, digits and hyphens, starting and ending with a letter or digit`);
  if (options.target === 'aws') {
    for (const local of ['model', 'captureDir', 'detach', 'port'] as const) {
      if (command.getOptionValueSource(local) === 'cli') throw new UsageError(`--${local.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --target local only`);
    }
  } else {
    for (const aws of ['modelData', 'image', 'roleArn', 'region'] as const) {
      if (options[aws] !== undefined) throw new UsageError(`--${aws.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --target aws only`);
    }
  }
}

async function deployAws(options: DeployOptions, { output, signal }: CommandContext): Promise<void> {
  const client = createSageMakerClient({ kind: 'aws', region: options.region });
  const result = await deployToSageMaker(client, {
    endpointName: options.name,
    bucket: options.bucket,
    trainingJobName: options.job,
    modelDataUrl: options.modelData,
    image: options.image,
    roleArn: options.roleArn,
    samplingPercentage: options.sampling,
    instanceType: options.instanceType,
    instanceCount: options.instanceCount,
    waitTimeoutMs: options.waitTimeout * 60_000,
    signal,
    onProgress: (message) => output.info(`scones deploy: ${message}`),
  });
  output.result({ ok: true, command: 'deploy', target: 'aws', ...result }, () =>
    [`endpoint ${result.endpointName} is InService (${result.updated ? 'updated' : 'created'})`, `model    ${result.modelName} (${result.modelDataUrl})`, `capture  ${result.captureDestination}/${result.endpointName}/AllTraffic/`].join(
      '\n',
    ),
  );
}

/** Serves on loopback until SIGINT/SIGTERM, registered by name for `scones invoke` and `scones run`. */
async function serveLocal(options: DeployOptions, { output, signal }: CommandContext): Promise<void> {
  const registry = new EndpointRegistry({ directory: options.endpointsDir });
  const running = await registry.get(options.name);
  if (running && running.pid !== process.pid) {
    throw new UsageError(`endpoint "${options.name}" is already running at ${running.url} (pid ${running.pid}); stop it (kill ${running.pid}) or choose another --name`);
  }
  const logger = createJsonLogger({
    level: parseLogLevel(process.env.SCONES_LOG_LEVEL, process.env[DETACHED_CHILD_ENV] ? 'info' : 'warn'),
    base: { service: 'model-server', endpoint: options.name },
  });
  let localS3: LocalS3 | undefined;
  let s3: S3Client | undefined;
  // The embedded S3 starts only if the model or the capture lives in the bucket.
  const bucketClient = async (): Promise<S3Client> => {
    if (!s3) {
      localS3 = await startLocalS3({ directory: options.s3Dir, buckets: [options.bucket] });
      s3 = createS3Client(localS3.target);
    }
    return s3;
  };
  let endpoint: ModelEndpoint | undefined;
  try {
    let modelLabel: string;
    let load: () => ReturnType<typeof loadClassifier>;
    if (options.model) {
      const dir = resolve(options.model);
      modelLabel = dir;
      load = () => loadClassifier(dir);
    } else {
      const client = await bucketClient();
      const job = options.job ?? jobOfManifestKey(await findLatestManifestKey(client, options.bucket, 'models/', signal));
      const prefix = `models/${job}/`;
      modelLabel = `s3://${options.bucket}/${prefix}`;
      load = () => loadClassifier({ s3: client, bucket: options.bucket, prefix });
    }
    const destination: CaptureDestination = options.captureDir
      ? { kind: 'directory', directory: resolve(options.captureDir), prefix: 'data_capture' }
      : { kind: 's3', bucket: options.bucket, prefix: 'data_capture' };
    const sink = createCaptureSink(destination, destination.kind === 's3' ? await bucketClient() : undefined);

    output.info(`scones deploy: loading ${modelLabel}`);
    const served = await startModelEndpoint({
      endpointName: options.name,
      loadPredictor: async () => {
        await initBackend({ threads: servingThreads() });
        return load();
      },
      listen: { port: options.port, host: options.host },
      capture: { sink, prefix: destination.prefix, samplingPercentage: options.sampling },
      logger,
    });
    endpoint = served;
    await Promise.race([served.ready, aborted(signal)]);
    signal.throwIfAborted();
    const captureDestination = destination.kind === 's3' ? `s3://${options.bucket}/${destination.prefix}` : join(destination.directory, destination.prefix);
    const entry = { name: options.name, url: served.url, port: served.server.port, pid: process.pid, model: modelLabel, captureDestination, startedAt: new Date().toISOString() };
    await registry.register(entry);
    output.result({ ok: true, command: 'deploy', target: 'local', ...entry, sampling: options.sampling, s3Endpoint: localS3?.endpoint ?? null, registry: registry.directory }, () =>
      [
        `endpoint ${options.name} serving at ${served.url} (pid ${process.pid})`,
        `model    ${modelLabel}`,
        `capture  ${captureDestination}/${options.name}/AllTraffic/ (${options.sampling} % of requests)`,
        `try      scones invoke ${options.name} <image.png>`,
        'stop     Ctrl-C',
      ].join('\n'),
    );
    await aborted(signal);
    output.info(`scones deploy: stopping ${options.name}: finishing requests, writing data capture`);
  } finally {
    await registry.unregister(options.name, { pid: process.pid }).catch(() => undefined);
    try {
      await endpoint?.close();
    } finally {
      await localS3?.stop();
    }
  }
  const stats = endpoint.server.stats();
  output.info(`scones deploy: ${options.name} stopped; ${stats.capture?.written ?? 0} capture record(s) written, ${stats.capture?.pending ?? 0} pending`);
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/** `models/<job>/manifest.json` → `<job>`. */
function jobOfManifestKey(key: string): string {
  return key.split('/').slice(-2, -1)[0];
}

/**
 * Starts this same command without `--detach` as a detached process writing to a log file, waits
 * until it has registered itself (model loaded, serving), and returns. If the child fails first,
 * the end of its log is the error.
 */
async function deployDetached(options: DeployOptions, { output, signal }: CommandContext): Promise<void> {
  const registry = new EndpointRegistry({ directory: options.endpointsDir });
  const running = await registry.get(options.name);
  if (running) throw new UsageError(`endpoint "${options.name}" is already running at ${running.url} (pid ${running.pid}); stop it (kill ${running.pid}) or choose another --name`);
  await mkdir(registry.directory, { recursive: true });
  const logFile = join(registry.directory, `${options.name}.log`);
  const log = openSync(logFile, 'w');
  const args = process.argv.slice(1).filter((a) => a !== '--detach' && a !== '--json');
  const child = spawn(process.execPath, [...process.execArgv, ...args], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, [DETACHED_CHILD_ENV]: '1' },
  });
  closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const failure = (why: string) => {
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
    return new Error(`the detached endpoint ${why}; the end of ${logFile}:\n${tail}`);
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    const entry = await registry.get(options.name);
    if (entry && entry.pid === child.pid) {
      child.unref();
      output.result({ ok: true, command: 'deploy', target: 'local', detached: true, ...entry, log: logFile }, () =>
        [`endpoint ${entry.name} serving at ${entry.url} (pid ${entry.pid}, detached)`, `model    ${entry.model}`, `capture  ${entry.captureDestination}`, `log      ${logFile}`, `stop     kill ${entry.pid}`].join('\n'),
      );
      return;
    }
    if (exited !== undefined || (child.pid !== undefined && !processIsAlive(child.pid))) throw failure(`exited with code ${exited ?? 'unknown'} before serving`);
    if (signal.aborted || Date.now() > deadline) {
      child.kill('SIGTERM');
      if (signal.aborted) signal.throwIfAborted();
      throw failure('did not start serving within 120 s and was stopped');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
