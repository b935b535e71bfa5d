import { DATA_CAPTURE_PREFIX } from '@scones/payload-schemas';
import { DEFAULT_MODEL_PREFIX, parseDuration } from '@scones/monitor-analytics';
import { DEFAULT_REPORT_PREFIX } from '@scones/report';

/** What the scheduled report job does, from its environment (the CDK stack sets these). */
export interface ReportJobConfig {
  /** BUCKET: holds data_capture/, models/ and receives reports/. */
  bucket: string;
  /** ENDPOINT_NAME: the endpoint whose capture is analysed. */
  endpointName: string;
  /** MODEL_MANIFEST_KEY: the model manifest to compare with; default the newest under MODEL_PREFIX. */
  manifestKey?: string;
  /** MODEL_PREFIX: where `<job>/manifest.json` folders live (default `models/`). */
  modelPrefix: string;
  /** LOOKBACK: how far back from the schedule's time the report looks (default 24h). */
  lookbackMs: number;
  /** CAPTURE_PREFIX: the endpoint's DataCaptureConfig destination prefix (default `data_capture`). */
  capturePrefix: string;
  /** REPORT_PREFIX: where reports go in the bucket (default `reports/`). */
  reportPrefix: string;
  /** OUTPUT_DIR: write the report to this directory instead of the bucket (the CLI entry, tests). */
  outputDirectory?: string;
}

/** The job's environment is wrong; the message names the variable. */
export class ReportJobConfigError extends Error {
  override readonly name = 'ReportJobConfigError';
}

const DEFAULT_LOOKBACK = '24h';

export function readReportJobConfig(env: NodeJS.ProcessEnv): ReportJobConfig {
  const text = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const required = (name: string, what: string) => {
    const value = text(name);
    if (!value) throw new ReportJobConfigError(`${name} is not set: expected ${what}`);
    return value;
  };
  const lookback = text('LOOKBACK') ?? DEFAULT_LOOKBACK;
  const lookbackMs = parseDuration(lookback);
  if (!lookbackMs) throw new ReportJobConfigError(`LOOKBACK ${JSON.stringify(lookback)}: expected a duration like 1h, 24h or 7d`);
  return {
    bucket: required('BUCKET', 'the S3 bucket holding data_capture/ and models/'),
    endpointName: required('ENDPOINT_NAME', 'the name of the endpoint whose captured traffic is reported'),
    manifestKey: text('MODEL_MANIFEST_KEY'),
    modelPrefix: text('MODEL_PREFIX') ?? DEFAULT_MODEL_PREFIX,
    lookbackMs,
    capturePrefix: text('CAPTURE_PREFIX') ?? DATA_CAPTURE_PREFIX,
    reportPrefix: text('REPORT_PREFIX') ?? DEFAULT_REPORT_PREFIX,
    outputDirectory: text('OUTPUT_DIR'),
  };
}
