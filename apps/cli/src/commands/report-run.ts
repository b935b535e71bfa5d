import type { Command } from 'commander';
import { DescribeTrainingJobCommand, ListTrainingJobsCommand } from '@aws-sdk/client-sagemaker';
import { createS3Client, createSageMakerClient } from '@scones/local-cloud';
import { describeDeployedModel } from '@scones/model-server';
import { parseTimeWindow, TimeWindowError } from '@scones/monitor-analytics';
import { checkReportName, generateEndpointReport, ReportError, type CaptureLocation, type GeneratedReport } from '@scones/report';
import { refuseStackForLocal, resolveAwsBucket } from '../cli/aws-bucket';
import { UsageError } from '../cli/errors';
import { openInBrowser } from '../cli/open-in-browser';
import { runCommand, type CommandContext } from '../cli/run-command';
import { openTarget, type OpenedTarget } from '../cli/target';
import type { ReportOptions } from './report';
import { defaultReportsDir } from '../cli/stack-options';

/** `scones report` (report.ts defines its options); resolves to the exit code. */
export function report(options: ReportOptions, command: Command): Promise<number> {
  return runCommand('report', options, (ctx) => writeReport(options, command, ctx));
}

/** Every option is checked before any work (reading capture, starting S3, loading a model). */
function checkOptions(options: ReportOptions): void {
  for (const [flag, value, what] of [
    ['--endpoint', options.endpoint, 'endpoint name'],
    ['--schedule', options.schedule, 'schedule name'],
    ...(options.job ? ([['--job', options.job, 'model (training job) name']] as const) : []),
  ] as const) {
    try {
      checkReportName(value, what);
    } catch (error) {
      if (error instanceof ReportError) throw new UsageError(`${flag}: ${error.message}`);
      throw error;
    }
  }
}

async function writeReport(options: ReportOptions, command: Command, { output, signal }: CommandContext): Promise<void> {
  checkOptions(options);
  const window = (() => {
    try {
      return parseTimeWindow({ since: options.since, until: options.until, now: new Date() });
    } catch (error) {
      if (error instanceof TimeWindowError) throw new UsageError(`--${error.message}`);
      throw error;
    }
  })();
  const needsBucket = !options.captureDir || !options.model;
  refuseStackForLocal(options, command);
  if (options.target === 'aws' && needsBucket) options.bucket = await resolveAwsBucket(options, command, 'the bucket holding data_capture/ and models/', signal);

  const opened = needsBucket ? await openTarget(options, output) : undefined;
  const client = opened ? createS3Client(opened.target) : undefined;
  try {
    const s3 = client ? { client, bucket: options.bucket } : undefined;
    const capture: CaptureLocation | undefined = options.captureDir ? { kind: 'directory', directory: options.captureDir } : s3 && { kind: 's3', ...s3 };
    if (!capture) throw new Error('internal: no capture location'); // needsBucket guarantees s3 without --capture-dir
    // On the local stack the model is a SageMaker model: the endpoint's, the job's, or the newest job's model data.
    const modelDataUrl = opened?.kind === 'local' && !options.model ? await localModelData(options, opened, signal) : undefined;
    const model = { modelDirectory: options.model, s3, jobName: modelDataUrl ? undefined : options.job, modelDataUrl };

    let bar: ReturnType<typeof output.progress> | undefined;
    const result = await generateEndpointReport({
      endpointName: options.endpoint,
      capture,
      model,
      window,
      destination: { kind: 'directory', directory: options.out ?? defaultReportsDir(options.dataDir) },
      schedule: options.schedule,
      embeddings: options.embeddings,
      embeddingSampleSize: options.embeddingSample,
      signal,
      onProgress: (p) => {
        bar ??= output.progress('reading capture files', p.filesListed, 'files');
        bar.update(p.filesRead, `${p.records.toLocaleString('en-US')} records`);
      },
    });
    bar?.stop();

    const browsed = options.open ? await openInBrowser(result.written.html) : false;
    if (options.open && !browsed) output.info('scones report: no default browser to open the report with; open the path below yourself');
    output.result({ ok: true, command: 'report', report: result.written.html, location: result.written.location, opened: browsed, summary: result.summary }, () => describe(result));
  } finally {
    client?.destroy();
    await opened?.close();
  }
}

/** The model data a local report compares with: `--job`'s, else the endpoint's model's, else the newest completed job's. */
async function localModelData(options: ReportOptions, opened: OpenedTarget, signal: AbortSignal): Promise<string> {
  const sagemaker = createSageMakerClient(opened.target);
  try {
    if (options.job) {
      const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: options.job }), { abortSignal: signal }).catch((error: Error) => {
        if (signal.aborted) throw error;
        throw new UsageError(`--job ${options.job}: no such training job on the local stack (${error.message})`);
      });
      const url = job.ModelArtifacts?.S3ModelArtifacts;
      if (!url) throw new UsageError(`--job ${options.job}: the training job is ${job.TrainingJobStatus} and has no model artifact`);
      return url;
    }
    const deployed = await describeDeployedModel(sagemaker, options.endpoint, signal).catch(() => undefined);
    if (deployed?.modelDataUrl) return deployed.modelDataUrl;
    const newest = await sagemaker.send(new ListTrainingJobsCommand({ StatusEquals: 'Completed', SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 1 }), { abortSignal: signal });
    const name = newest.TrainingJobSummaries?.[0]?.TrainingJobName;
    if (!name) throw new UsageError(`no model to compare with: endpoint ${options.endpoint} is not deployed and no training job has completed on the local stack (name one with --job or --model)`);
    const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }), { abortSignal: signal });
    if (!job.ModelArtifacts?.S3ModelArtifacts) throw new UsageError(`training job ${name} has no model artifact`);
    return job.ModelArtifacts.S3ModelArtifacts;
  } finally {
    sagemaker.destroy();
  }
}

function describe({ summary, violations, written }: GeneratedReport): string {
  const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
  const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/:\d{2}\.\d{3}Z$/, ' UTC') : 'now');
  const records = summary.records;
  const lines = [
    `endpoint      ${summary.endpointName} · model ${summary.model.jobName} · ${when(summary.window.since)} → ${when(summary.window.until)}`,
    `requests      ${records.analyzed.toLocaleString('en-US')}${records.malformed ? ` (+ ${records.malformed} malformed line${records.malformed === 1 ? '' : 's'}, listed in the report)` : ''}`,
    `rate          ${summary.rate.perMinute === null ? '–' : `${summary.rate.perMinute.toFixed(2)} /min`}`,
    `below ${summary.model.threshold.toFixed(2)}    ${pct(summary.confidence.belowThreshold.share)} of predictions under the threshold`,
    `drift         ${violations.length ? `${violations.length} violation(s): ${violations.map((v) => v.metric).join(', ')}` : 'no violations'}`,
    `embeddings    ${summary.embedding.available ? `${pct(summary.embedding.outOfDistribution.share)} of ${summary.embedding.sampled} embedded inputs out of distribution (${pct(summary.embedding.outOfDistribution.expectedShare)} expected)` : `not compared: ${summary.embedding.reason}`}`,
    `report        ${written.html}`,
    `model monitor ${written.files.statistics}, ${written.files.violations}`,
  ];
  if (records.analyzed === 0) lines.splice(1, 0, 'note          no captured requests in this window: widen it with --since (e.g. --since 7d)');
  return lines.join('\n');
}
