import { spawn, type ChildProcess } from 'node:child_process';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DeleteEndpointCommand, DescribeEndpointCommand, DescribeTrainingJobCommand, ListTrainingJobsCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { describeCifarSource, resolveCifarSource } from '@scones/cifar-decoder';
import { artifactAtUrl, readManifest } from '@scones/image-classifier';
import { createS3Client, createSageMakerClient, DEFAULT_LOCAL_BUCKET, listObjects } from '@scones/local-cloud';
import { DEFAULT_BUCKET_LAYOUT, endpointNameSchema, type ModelManifest } from '@scones/payload-schemas';
import { renderDemoSummary, summarizeDemo, type EndpointCounters } from '../cli/demo-summary';
import { ExitCode, InterruptedError, UsageError } from '../cli/errors';
import { isImageKey } from '../cli/image-keys';
import type { Output } from '../cli/output';
import { runCommand, type CommandContext } from '../cli/run-command';
import { openTarget } from '../cli/target';
import type { DemoOptions } from './demo';
import { defaultReportsDir } from '../cli/stack-options';

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

interface DemoClients {
  s3: S3Client;
  sagemaker: SageMakerClient;
}

/** Whether both channels are staged, and how many test images there are. */
async function stagedData(client: S3Client, signal: AbortSignal): Promise<{ staged: boolean; testImages: number }> {
  const layout = DEFAULT_BUCKET_LAYOUT;
  let keys: string[];
  try {
    keys = [...(await listObjects(client, DEFAULT_LOCAL_BUCKET, layout.dataPrefix, { signal })).keys()];
  } catch (error) {
    if ((error as Error).name === 'NoSuchBucket' || /NoSuchBucket/.test((error as Error).message)) return { staged: false, testImages: 0 };
    throw error;
  }
  return {
    staged: keys.includes(layout.trainManifest) && keys.includes(layout.testManifest),
    testImages: keys.filter((key) => key.startsWith(layout.testPrefix) && isImageKey(key)).length,
  };
}

/** The model a completed training job wrote, read and validated as the serving code reads it. */
async function modelOfJob({ s3, sagemaker }: DemoClients, jobName: string, signal: AbortSignal): Promise<DemoModel> {
  const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName }), { abortSignal: signal });
  const url = job.ModelArtifacts?.S3ModelArtifacts;
  if (!url) throw new Error(`training job ${jobName} has no model artifact`);
  return { jobName, manifest: await readManifest(artifactAtUrl(s3, url), signal) };
}

/** The newest completed training job of `preset` on the stack, if any (an unreadable model is not one to reuse). */
async function newestModel(clients: DemoClients, preset: string, signal: AbortSignal): Promise<DemoModel | undefined> {
  const listed = await clients.sagemaker.send(new ListTrainingJobsCommand({ StatusEquals: 'Completed', SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 100 }), { abortSignal: signal });
  for (const summary of listed.TrainingJobSummaries ?? []) {
    const name = summary.TrainingJobName;
    if (!name) continue;
    try {
      const job = await clients.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }), { abortSignal: signal });
      if (job.HyperParameters?.scones_preset !== preset) continue;
      return await modelOfJob(clients, name, signal);
    } catch (error) {
      if (signal.aborted) throw error;
    }
  }
  return undefined;
}

/** Deletes the endpoint (it writes its last capture files as it stops) and waits until it is gone. */
async function deleteEndpoint(sagemaker: SageMakerClient, name: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await sagemaker.send(new DeleteEndpointCommand({ EndpointName: name }), { abortSignal: signal });
  } catch (error) {
    if (/could not find endpoint/i.test((error as Error).message)) return false;
    throw error;
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }), { abortSignal: signal });
    } catch (error) {
      if (/could not find endpoint/i.test((error as Error).message)) return true;
      throw error;
    }
    if (Date.now() > deadline) throw new DemoStepError(`endpoint ${name} is still being deleted after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Capture records in S3 for the endpoint written since `since`: what the capture actually holds. */
async function captureRecords(s3: S3Client, endpoint: string, since: number, signal: AbortSignal): Promise<number> {
  const prefix = `${DEFAULT_BUCKET_LAYOUT.capturePrefix}${endpoint}/`;
  let records = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: DEFAULT_LOCAL_BUCKET, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
    for (const object of page.Contents ?? []) {
      if (!object.Key?.endsWith('.jsonl') || (object.LastModified && object.LastModified.getTime() < since - 1000)) continue;
      const body = await s3.send(new GetObjectCommand({ Bucket: DEFAULT_LOCAL_BUCKET, Key: object.Key }), { abortSignal: signal });
      const text = (await body.Body?.transformToString()) ?? '';
      records += text.split('\n').filter((line) => line.trim() !== '').length;
    }
    token = page.NextContinuationToken;
  } while (token);
  return records;
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
  // Every option is checked before any work.
  if (!(options.streamDuration > 0)) throw new UsageError(`--stream-duration: expected more than 0, got ${options.streamDuration} ms`);
  if (!endpointNameSchema.safeParse(options.endpoint).success) throw new UsageError(`--endpoint ${JSON.stringify(options.endpoint)}: expected 1-63 letters, digits and hyphens`);
  const started = Date.now();
  const preset = options.quick ? 'quick' : 'full';
  const common = ['--data-dir', options.dataDir];
  const sourceArg = options.source || undefined;
  const source = resolveCifarSource({ source: sourceArg, download: options.download });
  output.info(`scones demo: the Scones Unlimited workflow on the local stack (${preset} training)`);
  output.info(`  data     ${describeCifarSource(source)}`);
  const target = await openTarget({ target: 'local', dataDir: options.dataDir }, output);
  output.info(`  stack    ${target.url} (data in ${target.stack?.dataDir}; ${target.ownsStack ? 'started for this demo' : 'the one `scones up` runs'})`);
  const s3 = createS3Client(target.target);
  const sagemaker = createSageMakerClient(target.target);
  const clients = { s3, sagemaker };
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
  try {
    let data = await stagedData(s3, signal);
    const reusable = options.retrain ? undefined : await newestModel(clients, preset, signal);
    if (!data.staged || options.restage || options.download || sourceArg) {
      const from = source.kind === 'file' ? ['--source', source.path] : source.kind === 'download' && source.reason === 'asked' ? ['--download'] : [];
      await timed('stage', () => step(output, signal, '1/6 stage CIFAR-100 bicycles and motorcycles into the local S3', ['stage', ...common, ...from]));
      data = await stagedData(s3, signal);
    } else output.info(`\n▶ 1/6 stage: data/train and data/test are already in the local S3 (${data.testImages} test images; --restage to stage again)`);

    let model: DemoModel;
    const trained = !reusable;
    if (!reusable) {
      const train = await timed('train', () =>
        step(output, signal, `2/6 train the classifier: a training job on the local stack (${preset}${options.quick ? '; a smoke run, not the benchmark model' : ''})`, ['train', ...common, ...(options.quick ? ['--quick'] : [])]),
      );
      const jobName = String(train.jobName);
      model = await modelOfJob(clients, jobName, signal).catch((error: Error) => {
        if (signal.aborted) throw error;
        throw new DemoStepError(`step "2/6 train" reported job ${jobName}, but its model is not readable: ${error.message}`);
      });
    } else {
      model = reusable;
      output.info(`\n▶ 2/6 train: reusing training job ${model.jobName} (${preset}; --retrain to train again)`);
    }

    // A leftover of an interrupted run is removed through the API, never by a pid read from a file.
    await deleteEndpoint(sagemaker, options.endpoint, signal);
    const deploy = await timed('deploy', () =>
      step(output, signal, '3/6 deploy the model to an endpoint with data capture (CreateModel, CreateEndpointConfig, CreateEndpoint)', ['deploy', ...common, '--name', options.endpoint, '--job', model.jobName]),
    );
    output.info(`  endpoint ${options.endpoint} InService at ${String(deploy.invocationsUrl ?? target.url)}, capture to ${String(deploy.captureDestination)}`);
    const endpointArgs = [...common, '--endpoint', options.endpoint];
    const batch = await timed('batch', () =>
      step(output, signal, `4/6 run the batch state machine (Map) over all ${data.testImages} test images`, ['run', ...endpointArgs, '--all', DEFAULT_BUCKET_LAYOUT.testPrefix], { acceptFailedResult: true }),
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
    const status = (await (await fetch(new URL('/_scones/status', target.url), { signal })).json()) as { services?: Record<string, { invocations?: Record<string, Record<string, number>> }> };
    const responses = status.services?.['sagemaker-runtime']?.invocations?.[options.endpoint] ?? {};
    // Deleting the endpoint stops its process, which writes the last capture files first.
    output.info('\n  deleting the endpoint (it writes its last capture files)');
    await timed('stopEndpoint', () => deleteEndpoint(sagemaker, options.endpoint, signal));
    const written = await captureRecords(s3, options.endpoint, started, signal);
    const counters: EndpointCounters = { responses, capture: { written, pending: 0 } };
    const report = await timed('report', () =>
      step(output, signal, "6/6 monitoring report: this run's captured traffic against the model's baseline", [
        'report',
        ...common,
        '--endpoint',
        options.endpoint,
        '--job',
        model.jobName,
        '--since',
        new Date(started).toISOString(),
        '--out',
        options.out ?? defaultReportsDir(options.dataDir),
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
    // Whatever happened, the demo's endpoint is not left serving (a fresh request: the signal may be aborted).
    await deleteEndpoint(sagemaker, options.endpoint).catch(() => undefined);
    s3.destroy();
    sagemaker.destroy();
    await target.close();
  }
}
