import { Command, Option } from 'commander';
import { WorkflowErrorName } from '@scones/payload-schemas';
import { generateLoad, testCase, type LoadProgress, type LoadReport } from '@scones/workflow';
import { UsageError } from '../cli/errors';
import { decimal, duration, integer, jsonOption } from '../cli/options';
import { runCommand, type CommandContext } from '../cli/run-command';
import { addWorkflowTargetOptions, checkTargetOptions, formatMs, formatOtherFailures, listImageKeys, openWorkflowSession, type WorkflowTargetOptions } from '../cli/workflow-session';

interface LoadOptions extends WorkflowTargetOptions {
  rate?: number;
  duration: number;
  concurrency: number;
  maxExecutions?: number;
  prefix: string;
  json?: boolean;
}

/** Longest load `scones load` runs: it must stop by itself. */
const MAX_DURATION_MS = 3_600_000;

/** `scones load`: a traffic generator of workflow executions over the test images. */
export function loadCommand(): Command {
  const command = new Command('load')
    .description('keep starting workflow executions over the test images at a rate (or as a parallel burst) and report throughput and latency percentiles')
    .addOption(new Option('--rate <per-second>', 'executions started per second (default: back to back, as many as --concurrency allows)').argParser(decimal(0.01, 100_000)))
    .addOption(new Option('--duration <time>', 'stop starting executions after this long, e.g. 30s, 5m (at most 1h)').argParser(duration).default(10_000, '10s'))
    .addOption(new Option('--concurrency <n>', 'executions in flight at most').argParser(integer(1, 1024)).default(8))
    .addOption(new Option('--max-executions <n>', 'stop after this many executions (default: rate × duration)').argParser(integer(1, 10_000_000)))
    .addOption(new Option('--prefix <prefix>', 'the images the executions cycle through').default('data/test/'));
  addWorkflowTargetOptions(command, { batch: false }).addOption(jsonOption());
  command.addHelpText('after', '\nExit status: 0 unless an execution failed otherwise than with THRESHOLD_CONFIDENCE_NOT_MET, or the command itself failed.');
  return command.action(async (options: LoadOptions) => {
    let failed = false;
    const code = await runCommand('load', options, async (ctx) => {
      failed = await load(options, command, ctx);
    });
    process.exitCode = code === 0 && failed ? 1 : code;
  });
}

function liveLine(p: LoadProgress): string {
  const latency = p.latencyMs ? `  p50 ${formatMs(p.latencyMs.p50)}  p99 ${formatMs(p.latencyMs.p99)}` : '';
  return `${(p.elapsedMs / 1000).toFixed(1).padStart(6)} s  started ${p.started}  done ${p.completed} (${p.failed} failed)  in flight ${p.inFlight}  ${p.recentThroughput.toFixed(1)}/s${latency}`;
}

async function load(options: LoadOptions, command: Command, { output, signal }: CommandContext): Promise<boolean> {
  if (options.duration <= 0 || options.duration > MAX_DURATION_MS) throw new UsageError(`--duration: expected more than 0 and at most 1h, got ${options.duration} ms`);
  checkTargetOptions(command, options);
  const session = await openWorkflowSession(options, { history: false, bucketGiven: command.getOptionValueSource('bucket') !== 'default' }, output, signal);
  let report: LoadReport;
  try {
    const keys = await listImageKeys(session, options.prefix, signal);
    const pace = options.rate ? `${options.rate}/s` : 'back to back';
    output.info(`scones load: ${pace} for ${formatMs(options.duration)}, at most ${options.concurrency} in flight, over ${keys.length} images of s3://${session.bucket}/${options.prefix}`);
    // On a terminal the live line redraws in place; elsewhere one line per second.
    const tty = process.stderr.isTTY && !options.json;
    report = await generateLoad({
      ratePerSecond: options.rate,
      durationMs: options.duration,
      concurrency: options.concurrency,
      maxExecutions: options.maxExecutions,
      signal,
      execute: async (index) => {
        const outcome = await session.single.execute(testCase(session.bucket, keys[index % keys.length]), { signal });
        return outcome.status === 'SUCCEEDED' ? { ok: true } : { ok: false, error: outcome.error ?? outcome.status };
      },
      onProgress: (progress) => (tty ? process.stderr.write(`\r\x1b[K${liveLine(progress)}`) : output.info(liveLine(progress))),
    });
    if (tty) process.stderr.write('\n');
  } finally {
    await session.close();
  }
  // Interrupted (Ctrl-C): the partial report is still printed; the exit status says 130.
  const thresholdNotMet = report.failuresByError[WorkflowErrorName.ThresholdConfidenceNotMet] ?? 0;
  const failedOtherwise = report.failed - thresholdNotMet;
  output.result(
    {
      ok: failedOtherwise === 0,
      command: 'load',
      target: session.target,
      ...session.describe,
      rate: options.rate ?? null,
      durationMs: options.duration,
      concurrency: options.concurrency,
      report: { ...report, thresholdNotMet, failedOtherwise },
    },
    () => {
      const others = formatOtherFailures(report.failuresByError);
      const lines = [
        `${report.completed} executions in ${formatMs(report.durationMs)}: ${report.throughput.toFixed(1)}/s; ${report.succeeded} passed, ${thresholdNotMet} ${WorkflowErrorName.ThresholdConfidenceNotMet}, ${failedOtherwise} failed otherwise${others ? ` (${others})` : ''}`,
      ];
      const l = report.latencyMs;
      if (l) lines.push(`latency: p50 ${formatMs(l.p50)}, p90 ${formatMs(l.p90)}, p99 ${formatMs(l.p99)}, max ${formatMs(l.max)}`);
      if (report.delayedStarts) lines.push(`${report.delayedStarts} starts came late: ${options.concurrency} executions were already in flight (the rate was more than the workflow could take)`);
      return lines.join('\n');
    },
  );
  return failedOtherwise > 0;
}
