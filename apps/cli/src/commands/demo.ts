import { spawn } from 'node:child_process';
import { Command, Option } from 'commander';
import { EndpointRegistry, createS3Client, listObjects, startLocalS3 } from '@scones/local-cloud';
import { InterruptedError } from '../cli/errors';
import { decimal, duration, jsonOption, s3DirOption } from '../cli/options';
import type { Output } from '../cli/output';
import { runCommand, type CommandContext } from '../cli/run-command';

interface DemoOptions {
  source?: string;
  quick?: boolean;
  restage?: boolean;
  retrain?: boolean;
  endpoint: string;
  s3Dir: string;
  rate: number;
  streamDuration: number;
  out: string;
  json?: boolean;
}

/** A failed stage of the demo: names the step, keeps the child's exit code meaning. */
class DemoStepError extends Error {
  override readonly name = 'DemoStepError';
}

type Json = Record<string, unknown>;

/**
 * Runs one `scones` subcommand as a child process with --json: the demo is exactly the
 * composition of the commands a user runs by hand, with the same code paths. The child's
 * progress (stderr) streams through; its JSON summary (stdout) is returned.
 */
function step(output: Output, signal: AbortSignal, title: string, args: string[]): Promise<Json> {
  output.info(`\n▶ ${title}: scones ${args.join(' ')}`);
  const launcher = require.resolve(`${process.env.SCONES_ROOT ?? process.cwd()}/tools/scones.js`);
  return new Promise((resolve, reject) => {
    // Own process group is not used: Ctrl-C in a terminal reaches the child directly, and an
    // abort (SIGTERM to the demo) is forwarded below.
    const child = spawn(process.execPath, [launcher, ...args, '--json'], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const onAbort = () => child.kill('SIGINT');
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => reject(new DemoStepError(`${title}: cannot start: ${error.message}`)));
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted || code === 130) return reject(new InterruptedError());
      let summary: Json | undefined;
      try {
        summary = JSON.parse(stdout) as Json;
      } catch {
        summary = undefined;
      }
      if (code !== 0) {
        const cause = (summary?.error as { message?: string } | undefined)?.message ?? `exit code ${code ?? sig}`;
        return reject(new DemoStepError(`step "${title}" failed: ${cause}`));
      }
      if (!summary) return reject(new DemoStepError(`step "${title}" printed no JSON summary`));
      resolve(summary);
    });
  });
}

/** What a previous run left in the embedded S3: staged channels and trained models. */
async function existingState(s3Dir: string): Promise<{ staged: boolean; models: string[] }> {
  const s3 = await startLocalS3({ directory: s3Dir });
  try {
    const client = createS3Client(s3.target);
    const keys = await listObjects(client, 'scones', 'data/');
    // Default job names end in a UTC timestamp, so name order is age order.
    const models = [...(await listObjects(client, 'scones', 'models/')).keys()]
      .filter((key) => key.endsWith('/manifest.json'))
      .map((key) => key.split('/')[1])
      .sort();
    client.destroy();
    return { staged: keys.has('data/train.lst') && keys.has('data/test.lst'), models };
  } finally {
    await s3.stop();
  }
}

const pct = (x: unknown) => (typeof x === 'number' ? `${(x * 100).toFixed(1)} %` : 'n/a');
const num = (x: unknown, digits = 1) => (typeof x === 'number' ? x.toFixed(digits) : 'n/a');

async function demo(options: DemoOptions, { output, signal }: CommandContext): Promise<void> {
  const started = Date.now();
  const common = ['--s3-dir', options.s3Dir];
  const source = options.source ?? (process.env.SCONES_CIFAR_SOURCE || undefined);
  output.info(`scones demo: the Scones Unlimited workflow on the embedded stack (S3 data in ${options.s3Dir})`);

  const state = await existingState(options.s3Dir);
  let stage: Json | null = null;
  if (!state.staged || options.restage) {
    stage = await step(output, signal, '1/6 stage CIFAR-100 bicycles and motorcycles', ['stage', ...common, ...(source ? ['--source', source] : [])]);
  } else output.info('\n▶ 1/6 stage: data/train and data/test are already staged (--restage to redo)');

  let train: Json | null = null;
  let job = state.models.at(-1);
  if (!job || options.retrain || stage) {
    train = await step(output, signal, `2/6 train the classifier${options.quick ? ' (quick)' : ''}`, ['train', ...common, ...(options.quick ? ['--quick'] : [])]);
    job = String(train.jobName);
  } else output.info(`\n▶ 2/6 train: reusing the trained model models/${job}/ (--retrain to train again)`);

  const registry = new EndpointRegistry();
  await registry.stop(options.endpoint); // a leftover from an interrupted run
  let deploy: Json | undefined;
  try {
    deploy = await step(output, signal, '3/6 deploy the model to a local endpoint with data capture', [
      'deploy', ...common, '--name', options.endpoint, '--job', job, '--detach',
    ]);
    const batch = await step(output, signal, '4/6 run the state machine over every test image (batch definition)', [
      'run', ...common, '--endpoint', options.endpoint, '--all', 'data/test/',
    ]);
    const stream = await step(output, signal, '5/6 a stream of single executions', [
      'load', ...common, '--endpoint', options.endpoint, '--rate', String(options.rate), '--duration', `${options.streamDuration}ms`,
    ]);
    // Stopping the endpoint flushes its data capture before the report reads it.
    await registry.stop(options.endpoint);
    const report = await step(output, signal, '6/6 monitoring report with drift checks', [
      'report', ...common, '--endpoint', options.endpoint, '--job', job, '--since', '24h', '--out', options.out,
    ]);
    const seconds = (Date.now() - started) / 1000;
    const summary = { ok: true, command: 'demo', seconds, jobName: job, stage, train, deploy, batch, stream, report };
    output.result(summary, () => humanSummary(summary));
  } finally {
    await registry.stop(options.endpoint);
  }
}

function humanSummary(s: { seconds: number; jobName: string; train: Json | null; batch: Json; stream: Json; report: Json }): string {
  const b = s.batch as Json & { summary?: Json };
  const batch = (b.summary ?? b) as Json;
  const stream = ((s.stream.summary ?? s.stream) as Json) ?? {};
  const latency = (stream.latencyMs ?? batch.latencyMs ?? {}) as Json;
  const failures = (batch.failuresByError ?? {}) as Record<string, number>;
  const report = s.report as Json & { drift?: Json; summary?: Json };
  const test = (s.train?.test ?? null) as Json | null;
  return [
    '',
    `Scones Unlimited demo finished in ${s.seconds.toFixed(1)} s (model ${s.jobName})`,
    test ? `  model test accuracy          ${num(test.accuracy, 3)} on ${String(test.count)} images` : '  model                        reused (test figures in its manifest)',
    `  executions (batch)           ${String(batch.total ?? 'n/a')}: ${String(batch.succeeded ?? 'n/a')} passed, ${String(batch.failed ?? 'n/a')} failed`,
    `  pass rate at the threshold   ${pct(batch.passRate)}`,
    `  accuracy of passed images    ${pct(batch.passedAccuracy)}`,
    `  failures by error            ${Object.entries(failures).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `  stream of single executions  ${String(stream.total ?? stream.completed ?? 'n/a')} in ${num(stream.seconds)} s`,
    `  latency p50 / p99            ${num(latency.p50)} ms / ${num(latency.p99)} ms`,
    `  drift                        ${String((report.drift as Json | undefined)?.status ?? report.driftStatus ?? 'n/a')}`,
    `  report                       ${String(report.reportPath ?? report.path ?? report.html ?? 'n/a')}`,
  ].join('\n');
}

/** `scones demo`: the whole workflow end to end (what `npm start` runs). */
export function demoCommand(): Command {
  return new Command('demo')
    .description('run the whole workflow locally: stage, train, deploy, run the state machine, report')
    .addOption(new Option('--source <path>', 'cifar-100-python.tar.gz to stage from (default: download once, md5-checked)').env('SCONES_CIFAR_SOURCE'))
    .addOption(new Option('--quick', 'a fast smoke run: tiny training configuration, short stream'))
    .addOption(new Option('--restage', 'stage the data again even if it is already in the embedded S3'))
    .addOption(new Option('--retrain', 'train again even if a trained model exists'))
    .addOption(new Option('--endpoint <name>', 'name of the local endpoint').default('scones-demo'))
    .addOption(new Option('--rate <per-second>', 'executions per second of the stream').argParser(decimal(0.1, 1000)).default(20))
    .addOption(new Option('--stream-duration <duration>', 'how long the stream of single executions runs').argParser(duration).default(10_000))
    .addOption(new Option('--out <dir>', 'where the monitoring report goes').default('.scones/reports'))
    .addOption(s3DirOption())
    .addOption(jsonOption())
    .action(async (options: DemoOptions, command: Command) => {
      if (options.quick && command.getOptionValueSource('streamDuration') === 'default') options.streamDuration = 3_000;
      process.exitCode = await runCommand('demo', options, (ctx) => demo(options, ctx));
    });
}
