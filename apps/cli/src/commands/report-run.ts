import type { Command } from 'commander';
import { createS3Client, startLocalS3, type LocalS3, type Target } from '@scones/local-cloud';
import { parseTimeWindow, TimeWindowError, type BaselineLocation } from '@scones/monitor-analytics';
import { generateEndpointReport, type CaptureLocation, type GeneratedReport } from '@scones/report';
import { refuseStackForLocal, resolveAwsBucket } from '../cli/aws-bucket';
import { UsageError } from '../cli/errors';
import { openInBrowser } from '../cli/open-in-browser';
import { runCommand, type CommandContext } from '../cli/run-command';
import type { ReportOptions } from './report';

/** `scones report` (report.ts defines its options); resolves to the exit code. */
export function report(options: ReportOptions, command: Command): Promise<number> {
  return runCommand('report', options, (ctx) => writeReport(options, command, ctx));
}

async function writeReport(options: ReportOptions, command: Command, { output, signal }: CommandContext): Promise<void> {
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

  let localS3: LocalS3 | undefined;
  try {
    let s3: { client: ReturnType<typeof createS3Client>; bucket: string } | undefined;
    if (needsBucket) {
      let target: Target = { kind: 'aws' };
      if (options.target === 'local') {
        localS3 = await startLocalS3({ directory: options.s3Dir, buckets: [options.bucket] });
        target = localS3.target;
      }
      s3 = { client: createS3Client(target), bucket: options.bucket };
    }
    const capture: CaptureLocation | undefined = options.captureDir ? { kind: 'directory', directory: options.captureDir } : s3 && { kind: 's3', ...s3 };
    if (!capture) throw new Error('internal: no capture location'); // needsBucket guarantees s3 without --capture-dir
    const model: BaselineLocation = { modelDirectory: options.model, s3, jobName: options.job };

    let bar: ReturnType<typeof output.progress> | undefined;
    const result = await generateEndpointReport({
      endpointName: options.endpoint,
      capture,
      model,
      window,
      destination: { kind: 'directory', directory: options.out },
      signal,
      onProgress: (p) => {
        bar ??= output.progress('reading capture files', p.filesListed, 'files');
        bar.update(p.filesRead, `${p.records.toLocaleString('en-US')} records`);
      },
    });
    bar?.stop();

    const opened = options.open ? await openInBrowser(result.written.html) : false;
    if (options.open && !opened) output.info('scones report: no default browser to open the report with; open the path below yourself');
    output.result({ ok: true, command: 'report', report: result.written.html, location: result.written.location, opened, summary: result.summary }, () => describe(result));
  } finally {
    await localS3?.stop();
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
    `report        ${written.html}`,
  ];
  if (records.analyzed === 0) lines.splice(1, 0, 'note          no captured requests in this window: widen it with --since (e.g. --since 7d)');
  return lines.join('\n');
}
