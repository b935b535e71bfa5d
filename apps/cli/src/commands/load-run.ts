import type { Command } from 'commander';
import { WorkflowErrorName } from '@scones/payload-schemas';
import { generateLoad, testCase, type LoadProgress, type LoadReport } from '@scones/workflow';
import { UsageError } from '../cli/errors';
import { runCommand, type CommandContext } from '../cli/run-command';
import { checkTargetOptions } from '../cli/workflow-options';
import { formatMs, formatOtherFailures, listImageKeys, openWorkflowSession } from '../cli/workflow-session';
import type { LoadOptions } from './load';

/** Longest load `scones load` runs: it must stop by itself. */
const MAX_DURATION_MS = 3_600_000;

/** `scones load` (load.ts defines its options); resolves to the exit code. */
export async function load(options: LoadOptions, command: Command): Promise<number> {
  let failed = false;
  const code = await runCommand('load', options, async (ctx) => {
    failed = await generate(options, command, ctx);
  });
  return code === 0 && failed ? 1 : code;
}

function liveLine(p: LoadProgress): string {
  const latency = p.latencyMs ? `  p50 ${formatMs(p.latencyMs.p50)}  p99 ${formatMs(p.latencyMs.p99)}` : '';
  return `${(p.elapsedMs / 1000).toFixed(1).padStart(6)} s  started ${p.started}  done ${p.completed} (${p.failed} failed)  in flight ${p.inFlight}  ${p.recentThroughput.toFixed(1)}/s${latency}`;
}

async function generate(options: LoadOptions, command: Command, { output, signal }: CommandContext): Promise<boolean> {
  if (options.duration <= 0 || options.duration > MAX_DURATION_MS) throw new UsageError(`--duration: expected more than 0 and at most 1h, got ${options.duration} ms`);
  checkTargetOptions(command, options);
  const session = await openWorkflowSession(options, { history: false, bucketGiven: command.getOptionValueSource('bucket') !== 'default' }, output, signal);
  let report: LoadReport;
  try {
    const prefix = command.getOptionValueSource('prefix') === 'default' ? session.layout.testPrefix : options.prefix;
    const keys = await listImageKeys(session, prefix, signal);
    const pace = options.rate ? `${options.rate}/s` : 'back to back';
    output.info(`scones load: ${pace} for ${formatMs(options.duration)}, at most ${options.concurrency} in flight, over ${keys.length} images of s3://${session.bucket}/${prefix}`);
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
