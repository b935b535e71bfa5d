import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { readManifest } from '@scones/image-classifier';
import { DEFAULT_LOCAL_BUCKET, EndpointRegistry, createS3Client, listObjects, startLocalS3 } from '@scones/local-cloud';
import type { ModelManifest } from '@scones/payload-schemas';
import { renderDemoSummary, summarizeDemo, type EndpointCounters } from '../cli/demo-summary';
import { ExitCode, InterruptedError } from '../cli/errors';
import { isImageKey } from '../cli/image-keys';
import type { Output } from '../cli/output';
import { runCommand, type CommandContext } from '../cli/run-command';
import type { DemoOptions } from './demo';

type Json = Record<string, unknown>;


/** A failed stage of the demo: names the step and the cause. */
class DemoStepError extends Error {
  override readonly name = 'DemoStepError';
}

/** The subcommand running now, stopped if the demo itself is forced to exit (second Ctrl-C). */
let currentChild: ChildProcess | undefined;
process.on('exit', () => currentChild?.kill('SIGTERM'));

/**
 * Runs one `scones` subcommand as a child process with --json: the demo is exactly the
 * composition of the commands a user runs by hand, with the same code paths. The child's
 * progress (stderr) streams through; its JSON result (stdout) is returned. The child has its own
 * process group, so a terminal's Ctrl-C reaches it once, forwarded from here, and it can clean up.
 */
function step(output: Output, signal: AbortSignal, title: string, args: string[], { acceptFailedResult = false } = {}): Promise<Json> {
  signal.throwIfAborted();
  output.info(`\n▶ ${title}\n  scones ${args.join(' ')}`);
  const launcher = require.resolve(`${process.env.SCONES_ROOT ?? process.cwd()}/tools/scones.js`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [launcher, ...args, '--json'], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env, detached: true });
    currentChild = child;
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const onAbort = () => child.kill('SIGINT');
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => reject(new DemoStepError(`${title}: cannot start: ${error.message}`)));
    child.on('close', (code, killedBy) => {
      currentChild = undefined;
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted || code === ExitCode.Interrupted) return reject(new InterruptedError());
      let result: Json | undefined;
      try {
        result = JSON.parse(stdout) as Json;
      } catch {
        result = undefined;
      }
      // `run` and `load` exit 1 when an image failed, with a complete result: the demo reports it.
      const completeResult = result !== undefined && result.error === undefined;
      if (code !== 0 && !(acceptFailedResult && code === ExitCode.Failure && completeResult)) {
        const cause = (result?.error as { message?: string } | undefined)?.message ?? `exit code ${code ?? killedBy}`;
        return reject(new DemoStepError(`step "${title}" failed: ${cause}`));
      }
      if (!result) return reject(new DemoStepError(`step "${title}" printed no JSON result`));
      resolve(result);
    });
  });
}

/** A trained model the demo serves. */
interface DemoModel {
  jobName: string;
  manifest: ModelManifest;
}

/** Runs `work` with a client of the embedded S3 in `s3Dir`, stopped afterwards. */
async function withBucket<T>(s3Dir: string, work: (client: S3Client) => Promise<T>): Promise<T> {
  const s3 = await startLocalS3({ directory: s3Dir, buckets: [DEFAULT_LOCAL_BUCKET] });
  const client = createS3Client(s3.target);
  try {
    return await work(client);
  } finally {
    client.destroy();
    await s3.stop();
  }
}

/** Whether both channels are staged, and how many test images there are. */
async function stagedData(client: S3Client, signal: AbortSignal): Promise<{ staged: boolean; testImages: number }> {
  const keys = [...(await listObjects(client, DEFAULT_LOCAL_BUCKET, 'data/', { signal })).keys()];
  return {
    staged: keys.includes('data/train.lst') && keys.includes('data/test.lst'),
    testImages: keys.filter((key) => key.startsWith('data/test/') && isImageKey(key)).length,
  };
}

/** The manifest of `models/<job>/`, read and validated as the serving code reads it. */
function modelOfJob(client: S3Client, jobName: string, signal: AbortSignal): Promise<DemoModel> {
  return readManifest({ s3: client, bucket: DEFAULT_LOCAL_BUCKET, prefix: `models/${jobName}/` }, signal).then((manifest) => ({ jobName, manifest }));
}

/** The newest model trained with `preset`, if any (an unreadable manifest is not a model to reuse). */
async function newestModel(client: S3Client, preset: string, signal: AbortSignal): Promise<DemoModel | undefined> {
  const jobs = [...(await listObjects(client, DEFAULT_LOCAL_BUCKET, 'models/', { signal })).keys()]
    .map((key) => /^models\/([^/]+)\/manifest\.json$/.exec(key)?.[1])
    .filter((job): job is string => job !== undefined)
    .sort()
    .reverse(); // default job names end in a UTC timestamp: newest first
  for (const job of jobs) {
    try {
      const model = await modelOfJob(client, job, signal);
      if (model.manifest.training.hyperparameters.preset === preset) return model;
    } catch (error) {
      if (signal.aborted) throw error;
    }
  }
  return undefined;
}

/** The endpoint's final counters: the `model server stopped` record of its JSON log. */
async function endpointCounters(logFile: unknown, since: number): Promise<EndpointCounters | null> {
  if (typeof logFile !== 'string') return null;
  let text: string;
  try {
    text = await readFile(logFile, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.trim().split('\n').reverse()) {
    try {
      const record = JSON.parse(line) as Json;
      if (record.message === 'model server stopped' && Date.parse(String(record.time)) >= since) return record as unknown as EndpointCounters;
    } catch {
      // not a JSON record (the deploy command's own lines)
    }
  }
  return null;
}

/** `scones demo` (demo.ts defines its options); resolves to the exit code. */
export async function demo(options: DemoOptions): Promise<number> {
  let ok = true;
  const code = await runCommand('demo', options, async (ctx) => {
    ok = await runDemo(options, ctx);
  });
  return code === 0 && !ok ? ExitCode.Failure : code;
}

async function runDemo(options: DemoOptions, { output, signal }: CommandContext): Promise<boolean> {
  const started = Date.now();
  const preset = options.quick ? 'quick' : 'full';
  const common = ['--s3-dir', options.s3Dir];
  const source = options.source ?? (process.env.SCONES_CIFAR_SOURCE || undefined);
  output.info(`scones demo: the Scones Unlimited workflow on the embedded stack (S3 data in ${options.s3Dir}, ${preset} training)`);
  // Wall time of each step, in the JSON result (what `npm run bench` reports for the demo).
  const stepSeconds: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      stepSeconds[name] = Math.round(performance.now() - t0) / 1000;
    }
  };

  const found = await withBucket(options.s3Dir, async (client) => ({
    data: await stagedData(client, signal),
    model: options.retrain ? undefined : await newestModel(client, preset, signal),
  }));
  let data = found.data;
  const reusable = found.model;
  if (!data.staged || options.restage) {
    await timed('stage', () => step(output, signal, '1/6 stage CIFAR-100 bicycles and motorcycles into the embedded S3', ['stage', ...common, ...(source ? ['--source', source] : [])]));
    data = await withBucket(options.s3Dir, (client) => stagedData(client, signal));
  } else output.info(`\n▶ 1/6 stage: data/train and data/test are already in the embedded S3 (${data.testImages} test images; --restage to stage again)`);

  let model: DemoModel;
  const trained = !reusable;
  if (!reusable) {
    const train = await timed('train', () => step(output, signal, `2/6 train the classifier (${preset}${options.quick ? '; a smoke run, not the benchmark model' : ''})`, ['train', ...common, ...(options.quick ? ['--quick'] : [])]));
    const jobName = String(train.jobName);
    model = await withBucket(options.s3Dir, (client) => modelOfJob(client, jobName, signal)).catch((error: Error) => {
      if (signal.aborted) throw error;
      throw new DemoStepError(`step "2/6 train" reported job ${jobName}, but its model is not readable: ${error.message}`);
    });
  } else {
    model = reusable;
    output.info(`\n▶ 2/6 train: reusing models/${model.jobName}/ (${preset}; --retrain to train again)`);
  }

  const registry = new EndpointRegistry();
  await registry.stop(options.endpoint); // a leftover from an interrupted run
  let deploy: Json | undefined;
  const stopEndpoint = () => {
    if (typeof deploy?.pid === 'number') {
      try {
        process.kill(deploy.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', stopEndpoint);
  try {
    deploy = await timed('deploy', () => step(output, signal, '3/6 deploy the model to a local endpoint with data capture', ['deploy', ...common, '--name', options.endpoint, '--job', model.jobName, '--detach']));
    output.info(`  endpoint ${options.endpoint} at ${String(deploy.url)} (pid ${String(deploy.pid)}), capture to ${String(deploy.captureDestination)}`);
    const endpointArgs = [...common, '--endpoint', options.endpoint];
    const batch = await timed('batch', () =>
      step(output, signal, `4/6 run the batch state machine (Map) over all ${data.testImages} test images`, ['run', ...endpointArgs, '--all', 'data/test/'], { acceptFailedResult: true }),
    );
    const stream = await timed('stream', () =>
      step(
        output,
        signal,
        `5/6 a stream of single executions: ${options.rate}/s for ${(options.streamDuration / 1000).toFixed(0)} s`,
        ['load', ...endpointArgs, '--rate', String(options.rate), '--duration', `${options.streamDuration}ms`],
        { acceptFailedResult: true },
      ),
    );
    // Stopping the endpoint flushes its data capture before the report reads it.
    output.info('\n  stopping the endpoint (writes the last capture files)');
    await timed('stopEndpoint', () => registry.stop(options.endpoint));
    const counters = await endpointCounters(deploy.log, started);
    const report = await timed('report', () =>
      step(output, signal, '6/6 monitoring report: this run\'s captured traffic against the model\'s baseline', [
        'report', ...common, '--endpoint', options.endpoint, '--job', model.jobName, '--since', new Date(started).toISOString(), '--out', options.out,
      ]),
    );
    const summary = summarizeDemo({
      seconds: (Date.now() - started) / 1000,
      jobName: model.jobName,
      trained,
      manifest: model.manifest,
      expectedImages: data.testImages,
      batch,
      stream,
      report,
      endpoint: counters,
    });
    output.result({ ok: summary.ok, command: 'demo', summary, stepSeconds, steps: { deploy, batch: { summary: batch.summary }, stream: stream.report, report: report.summary } }, () => renderDemoSummary(summary));
    return summary.ok;
  } finally {
    process.off('exit', stopEndpoint);
    await registry.stop(options.endpoint);
  }
}
