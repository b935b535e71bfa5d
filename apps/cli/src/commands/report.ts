import { Command, Option } from 'commander';
import { bucketOption, integer, jsonOption, targetOption, stackBucketOption } from '../cli/options';
import { dataDirOption } from '../cli/stack-options';

export interface ReportOptions {
  endpoint: string;
  since?: string;
  until?: string;
  /** Default: {@link defaultReportsDir} of the data directory. */
  out?: string;
  target: 'local' | 'aws';
  captureDir?: string;
  model?: string;
  job?: string;
  bucket: string;
  stack?: string;
  dataDir: string;
  open?: boolean;
  json?: boolean;
  schedule: string;
  embeddingSample: number;
  embeddings: boolean;
}

/** `scones report`: the monitoring report of an endpoint's captured traffic. */
export function reportCommand(): Command {
  const command = new Command('report')
    .description("analyse an endpoint's captured traffic against its model's baseline and write an HTML monitoring report")
    .addOption(new Option('--endpoint <name>', 'endpoint whose captured traffic is reported').env('SCONES_ENDPOINT').default('scones-endpoint'))
    .addOption(new Option('--since <time>', 'start of the window: a duration before now (30m, 24h, 7d) or an ISO time').default('24h'))
    .addOption(new Option('--until <time>', 'end of the window: a duration before now or an ISO time (default: now)'))
    .addOption(new Option('--out <dir>', 'reports go to <dir>/<endpoint>/<schedule>/<yyyy>/<mm>/<dd>/<hh>/ (the hour the window ends), as a monitoring schedule writes them (default: <data-dir>/reports)'))
    .addOption(new Option('--schedule <name>', 'monitoring schedule the report belongs to (a report of the same schedule and hour is replaced)').default('on-demand'))
    .addOption(new Option('--embedding-sample <n>', 'captured inputs the model embeds for embedding drift and the out-of-distribution share (0: none)').argParser(integer(0, 100_000)).default(500))
    .addOption(new Option('--no-embeddings', 'do not load the model: skip embedding drift and the out-of-distribution share'))
    .addOption(targetOption())
    .addOption(new Option('--capture-dir <dir>', 'read capture files from a directory in the data_capture/ key layout instead of the bucket'))
    .addOption(new Option('--model <dir>', 'model artifact directory whose manifest.json gives the baseline, threshold and classes'))
    .addOption(
      new Option('--job <name>', "the training job whose model gives the baseline (local: its model.tar.gz; aws: models/<job>/manifest.json); default: the model the endpoint serves, else the newest").conflicts('model'),
    )
    .addOption(bucketOption())
    .addOption(stackBucketOption())
    .addOption(dataDirOption())
    .addOption(new Option('--open', 'open the report in the default browser when there is one'))
    .addOption(jsonOption());
  return command.action(async (options: ReportOptions) => {
    // Loaded on use: the analytics, the chart renderer, the SDK clients and the stack cost nothing to other commands.
    const { report } = await import('./report-run.js');
    process.exitCode = await report(options, command);
  });
}
