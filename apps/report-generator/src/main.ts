import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfigFromEnvironment } from '@scones/local-cloud';
import { parseTimePoint } from '@scones/monitor-analytics';
import { readReportJobConfig } from './lib/job-config';
import { runReportJob } from './lib/report-job';
import { configureBundledTfjs } from './lib/tfjs-environment';

const USAGE = `usage: report-generator [--until <time>] [--out <dir>]
Runs the report job once, configured like the Lambda by environment variables:
  BUCKET, ENDPOINT_NAME (required); MODEL_MANIFEST_KEY or MODEL_PREFIX, LOOKBACK (24h),
  CAPTURE_PREFIX, REPORT_PREFIX, SCHEDULE_NAME (scones-report), EMBEDDING_SAMPLE_SIZE (500),
  OUTPUT_DIR; AWS_ENDPOINT_URL_S3 for the embedded S3.
  --until <time>  end of the window (ISO time or a duration before now; default now)
  --out <dir>     write the report to this directory instead of the bucket (= OUTPUT_DIR)
Prints the result as JSON on stdout.`;

/** The report job as a one-shot command, for cron or a container. `scones report` is the interactive version. */
async function main(argv: string[]): Promise<number> {
  configureBundledTfjs(__dirname);
  const { values } = parseArgs({ args: argv, options: { until: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = readReportJobConfig({ ...process.env, ...(values.out ? { OUTPUT_DIR: values.out } : {}) });
  const until = values.until ? parseTimePoint(values.until, new Date(), '--until') : new Date();
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const result = await runReportJob(config, new S3Client(s3ClientConfigFromEnvironment()), until, controller.signal);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const e = error as Error;
    process.stderr.write(`report-generator: ${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e?.message ?? String(error)}\n`);
    // 2: the invocation was wrong (unknown flag, missing or bad variable); 1: the job failed.
    const usage = String((e as NodeJS.ErrnoException)?.code).startsWith('ERR_PARSE_ARGS') || e?.name === 'ReportJobConfigError' || e?.name === 'TimeWindowError';
    process.exit(usage ? 2 : 1);
  },
);
