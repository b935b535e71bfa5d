import type { Command } from 'commander';
import { WorkflowErrorName } from '@scones/payload-schemas';
import {
  imageOutcomeOfExecution,
  imageOutcomesOfBatch,
  randomKeys,
  runExecutions,
  summarizeImageOutcomes,
  testCase,
  topClass,
  type ExecutionOutcome,
  type GroundTruth,
  type HistoryEvent,
  type ImageOutcome,
  type WorkflowSummary,
} from '@scones/workflow';
import { UsageError } from '../cli/errors';
import { runCommand, type CommandContext } from '../cli/run-command';
import { checkTargetOptions } from '../cli/workflow-options';
import { formatMs, formatOtherFailures, listImageKeys, openWorkflowSession, readGroundTruth, type WorkflowSession } from '../cli/workflow-session';
import type { RunOptions } from './run';

/** `scones run` (run.ts defines its arguments and options); resolves to the exit code. */
export async function run(keys: string[], options: RunOptions, command: Command): Promise<number> {
  let failed = false;
  const code = await runCommand('run', options, async (ctx) => {
    failed = await runWorkflow(keys, options, command, ctx);
  });
  return code === 0 && failed ? 1 : code;
}

function checkRunOptions(keys: string[], options: RunOptions, command: Command): void {
  const modes = [keys.length > 0, options.random !== undefined, options.all !== undefined].filter(Boolean).length;
  if (modes === 0) throw new UsageError('nothing to run: give S3 keys, --random <n> or --all <prefix>');
  if (modes > 1) throw new UsageError('give either S3 keys, --random <n> or --all <prefix>');
  if (options.all === undefined) {
    for (const name of ['maxConcurrency', 'verbose', 'batchStateMachineArn'] as const) {
      if (command.getOptionValueSource(name) === 'cli') throw new UsageError(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --all only`);
    }
  }
  if (options.all === '') throw new UsageError('--all: expected a prefix such as data/test/');
  checkTargetOptions(command, options);
}

/** Runs the executions and prints them; returns whether an image failed otherwise than by the threshold. */
async function runWorkflow(keys: string[], options: RunOptions, command: Command, { output, signal }: CommandContext): Promise<boolean> {
  checkRunOptions(keys, options, command);
  const session = await openWorkflowSession(
    options,
    { batch: options.all !== undefined && options.definition === undefined, maxConcurrency: options.maxConcurrency, history: options.history, bucketGiven: command.getOptionValueSource('bucket') !== 'default' },
    output,
    signal,
  );
  try {
    const groundTruth = command.getOptionValueSource('groundTruth') === 'default' ? session.layout.testManifest : options.groundTruth;
    const prefix = command.getOptionValueSource('prefix') === 'default' ? session.layout.testPrefix : options.prefix;
    const truth = await readGroundTruth(session, groundTruth, signal);
    if (!truth) output.info(`scones run: no s3://${session.bucket}/${groundTruth}: the accuracy of passed predictions is not computed`);
    const show = describer(session, truth);
    let images: ImageOutcome[];
    let executions: ExecutionOutcome[] = [];
    let batch: ExecutionOutcome | undefined;
    const singles = async (chosen: string[]) => {
      const bar = chosen.length > 20 ? output.progress('executions', chosen.length, 'images') : undefined;
      let done = 0;
      const outcomes = await runExecutions(
        session.single,
        chosen.map((key) => testCase(session.bucket, key)),
        {
          concurrency: options.concurrency,
          signal,
          onOutcome: (outcome) => {
            const image = imageOutcomeOfExecution(outcome);
            bar?.update(++done);
            if (!bar || options.verbose || (image.status === 'FAILED' && image.error !== WorkflowErrorName.ThresholdConfidenceNotMet)) output.info(show(image));
            if (options.history) for (const line of historyLines(outcome.history ?? [])) output.info(line);
          },
        },
      );
      bar?.stop();
      return outcomes;
    };
    if (options.all !== undefined && session.batch) {
      output.info(`scones run: classifying every object under s3://${session.bucket}/${options.all} with the batch state machine`);
      // Locally the Map's iterations are seen as they finish: a live bar over the images listed.
      const bar = session.target === 'local' ? output.progress('classifying', (await listImageKeys(session, options.all, signal)).length, 'images') : undefined;
      // Iterations counted once each by index: a running execution's history may be read more than once.
      const finished = new Set<number>();
      batch = await session.batch.execute(
        { s3_bucket: session.bucket, s3_prefix: options.all },
        {
          signal,
          ...(bar
            ? {
                onEvent: (event: HistoryEvent) => {
                  if ((event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed') && event.index !== undefined && !finished.has(event.index)) {
                    finished.add(event.index);
                    bar.update(finished.size);
                  }
                },
              }
            : {}),
        },
      );
      bar?.stop();
      images = imageOutcomesOfBatch(batch);
      // Images below the threshold are the filter doing its job: listed with --verbose only.
      for (const image of images) if (options.verbose || (image.status === 'FAILED' && image.error !== WorkflowErrorName.ThresholdConfidenceNotMet)) output.info(show(image));
    } else if (options.all !== undefined) {
      // A user's own definition has no batch machine: one execution per image, --concurrency at a time.
      const keys = await listImageKeys(session, options.all, signal);
      output.info(`scones run: one execution of your state machine per image under s3://${session.bucket}/${options.all} (${keys.length} images, ${options.concurrency} at a time)`);
      executions = await singles(keys);
      images = executions.map(imageOutcomeOfExecution);
    } else {
      const chosen = keys.length > 0 ? keys : randomKeys(await listImageKeys(session, prefix, signal), options.random ?? 0);
      executions = await singles(chosen);
      images = executions.map(imageOutcomeOfExecution);
    }
    const summary = summarizeImageOutcomes(images, truth);
    const failed = summary.failedOtherwise > 0 || (batch !== undefined && batch.status !== 'SUCCEEDED');
    output.result(
      {
        ok: !failed,
        command: 'run',
        target: session.target,
        mode: options.all !== undefined ? 'all' : keys.length > 0 ? 'keys' : 'random',
        ...session.describe,
        ...(batch ? { batch: batchJson(batch, images) } : { executions: executions.map((e) => executionJson(e, options.history)) }),
        summary,
      },
      () => humanSummary(summary, batch),
    );
    return failed;
  } finally {
    await session.close();
  }
}

/** An execution in the JSON result: without the output (it holds the image, base64). */
function executionJson(outcome: ExecutionOutcome, withHistory?: boolean): Record<string, unknown> {
  const { history, input: _input, output: _output, ...rest } = outcome;
  const image = imageOutcomeOfExecution(outcome);
  return {
    ...rest,
    s3_key: image.s3_key,
    ...(image.inferences ? { inferences: image.inferences } : {}),
    ...(withHistory && history ? { history: history.map(({ output: _stateOutput, ...event }) => event) } : {}),
  };
}

function batchJson(outcome: ExecutionOutcome, images: ImageOutcome[]): Record<string, unknown> {
  const { history: _history, output: _output, notifications: _notifications, ...rest } = outcome;
  return { ...rest, images };
}

/** The error message inside a Lambda-style cause (`{"errorType","errorMessage","trace"}`), else the cause. */
function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: shown as it is
  }
  return cause.length > 200 ? `${cause.slice(0, 200)}…` : cause;
}

/** One line per image: what happened, the class and its probability, against the ground truth. */
function describer(session: WorkflowSession, truth: GroundTruth | undefined): (image: ImageOutcome) => string {
  const className = (index: number) => session.classNames?.[index] ?? `class ${index}`;
  const threshold = typeof session.describe.threshold === 'number' ? session.describe.threshold : undefined;
  return (image) => {
    const time = image.durationMs !== undefined ? `  ${formatMs(image.durationMs)}` : '';
    const top = image.inferences ? topClass(image.inferences) : undefined;
    const predicted = image.inferences && top !== undefined ? `${className(top)} p=${image.inferences[top].toFixed(3)}` : '';
    if (image.status === 'SUCCEEDED') {
      const label = truth?.labelOf(image.s3_key);
      const verdict = label === undefined || top === undefined ? '' : label === top ? '  correct' : `  WRONG (is ${className(label)})`;
      return `PASS  ${image.s3_key}  ${predicted}${verdict}${time}`;
    }
    if (image.error === WorkflowErrorName.ThresholdConfidenceNotMet) {
      const below = predicted ? `  ${predicted}${threshold !== undefined ? ` < ${threshold}` : ''}` : '';
      return `LOW   ${image.s3_key}  THRESHOLD_CONFIDENCE_NOT_MET${below}${time}`;
    }
    return `FAIL  ${image.s3_key}  ${image.error}: ${causeMessage(image.cause)}${time}`;
  };
}

/** The events `--history` shows: states entered and exited, failures, retries' failed attempts, Map iterations. */
function shownEvent(type: string): boolean {
  return /StateEntered$|StateExited$|Failed$|TimedOut$|Aborted$|^MapIteration/.test(type);
}

function historyLines(history: readonly HistoryEvent[]): string[] {
  const start = history[0]?.timestamp ?? 0;
  return history
    .filter((e) => shownEvent(e.type))
    .map((e) => {
      const detail = e.error ? ` ${e.error}` : '';
      return `      +${String(e.timestamp - start).padStart(5)} ms  ${e.type.padEnd(24)} ${e.stateName ?? ''}${e.index !== undefined ? ` [${e.index}]` : ''}${detail}`;
    });
}

function humanSummary(summary: WorkflowSummary, batch: ExecutionOutcome | undefined): string {
  const lines: string[] = [];
  if (batch) {
    lines.push(`batch execution ${batch.status} in ${formatMs(batch.durationMs)} (${batch.executionArn})`);
    if (batch.status !== 'SUCCEEDED') lines.push(`  ${batch.error ?? batch.status}: ${causeMessage(batch.cause)}`);
  }
  const others = formatOtherFailures(summary.failuresByError);
  lines.push(
    `${summary.images} image${summary.images === 1 ? '' : 's'}: ${summary.succeeded} passed, ${summary.thresholdNotMet} ${WorkflowErrorName.ThresholdConfidenceNotMet}, ${summary.failedOtherwise} failed otherwise${others ? ` (${others})` : ''}`,
  );
  if (summary.accuracy) {
    const { correct, evaluated, accuracy, source, unlabeled } = summary.accuracy;
    const rate = accuracy === null ? 'n/a' : `${(accuracy * 100).toFixed(1)} %`;
    lines.push(`accuracy of passed predictions: ${correct}/${evaluated} = ${rate} (ground truth ${source}${unlabeled ? `; ${unlabeled} not listed` : ''})`);
  }
  if (summary.latencyMs) {
    const l = summary.latencyMs;
    lines.push(`execution time: p50 ${formatMs(l.p50)}, p99 ${formatMs(l.p99)}, max ${formatMs(l.max)}`);
  }
  return lines.join('\n');
}
