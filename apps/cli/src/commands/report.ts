import { Command, Option } from 'commander';
import { bucketOption, jsonOption, s3DirOption, targetOption, stackBucketOption } from '../cli/options';

export interface ReportOptions {
  endpoint: string;
  since?: string;
  until?: string;
  out: string;
  target: 'local' | 'aws';
  captureDir?: string;
  model?: string;
  job?: string;
  bucket: string;
  stack?: string;
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
    .addOption(stackBucketOption())
    .addOption(s3DirOption())
    .addOption(new Option('--open', 'open the report in the default browser when there is one'))
    .addOption(jsonOption());
  return command.action(async (options: ReportOptions) => {
    // Loaded on use: the analytics, the chart renderer, the S3 client and the embedded S3 cost nothing to other commands.
    const { report } = await import('./report-run.js');
    process.exitCode = await report(options, command);
  });
}
