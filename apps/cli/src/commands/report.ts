import { Command, Option } from 'commander';
import { createS3Client, startLocalS3, type LocalS3, type Target } from '@scones/local-cloud';
import { parseTimeWindow, TimeWindowError, type BaselineLocation } from '@scones/monitor-analytics';
import { generateEndpointReport, type CaptureLocation, type GeneratedReport } from '@scones/report';
import { UsageError } from '../cli/errors';
import { openInBrowser } from '../cli/open-in-browser';
import { bucketOption, jsonOption, s3DirOption, targetOption } from '../cli/options';
import { runCommand, type CommandContext } from '../cli/run-command';

interface ReportOptions {
  endpoint: string;
  since?: string;
  until?: string;
  out: string;
  target: 'local' | 'aws';
  captureDir?: string;
  model?: string;
  job?: string;
  bucket: string;
  s3Dir: string;
  open?: boolean;
  json?: boolean;
}

/** `scones report`: the monitoring report of an endpoint's captured traffic. */
export function reportCommand(): Command {
  const command = new Command('report')
    .description("analyse an endpoint's captured traffic against its model's baseline and write an HTML monitoring report")
    .addOption(new Option('--endpoint <name>', 'endpoint whose captured traffic is reported').env('SCONES_ENDPOINT').default('scones-endpoint'))
    .addOption(new Option('--since <time>', 'start of the window: a duration before now (30m, 24h, 7d) or an ISO time').default('24h'))
    .addOption(new Option('--until <time>', 'end of the window: a duration before now or an ISO time (default: now)'))
    .addOption(new Option('--out <dir>', 'reports go to <dir>/<endpoint>/<timestamp>/report.html').default('.scones/reports'))
    .addOption(targetOption())
    .addOption(new Option('--capture-dir <dir>', 'read capture files from a directory in the data_capture/ key layout instead of the bucket'))
    .addOption(new Option('--model <dir>', 'model artifact directory whose manifest.json gives the baseline, threshold and classes'))
    .addOption(new Option('--job <name>', 'use models/<job>/manifest.json from the bucket (default: the newest model there)').conflicts('model'))
    .addOption(bucketOption())
    .addOption(s3DirOption())
    .addOption(new Option('--open', 'open the report in the default browser when there is one'))
    .addOption(jsonOption());
  return command.action(async (options: ReportOptions) => {
    process.exitCode = await runCommand('report', options, (ctx) => report(options, command, ctx));
  });
}

async function report(options: ReportOptions, command: Command, { output, signal }: CommandContext): Promise<void> {
  const window = (() => {
    try {
      return parseTimeWindow({ since: options.since, until: options.until, now: new Date() });
    } catch (error) {
      if (error instanceof TimeWindowError) throw new UsageError(`--${error.message}`);
      throw error;
    }
  })();
  const needsBucket = !options.captureDir || !options.model;
  if (options.target === 'aws' && needsBucket && command.getOptionValueSource('bucket') === 'default') {
    throw new UsageError('--bucket is required with --target aws (the bucket holding data_capture/ and models/)');
  }

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
