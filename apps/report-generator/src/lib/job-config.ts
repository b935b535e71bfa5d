import { DATA_CAPTURE_PREFIX } from '@scones/payload-schemas';
import { DEFAULT_EMBEDDING_SAMPLE_SIZE, DEFAULT_MODEL_PREFIX, parseDuration } from '@scones/monitor-analytics';
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
  /** SCHEDULE_NAME: the monitoring schedule the reports belong to: `<REPORT_PREFIX><endpoint>/<schedule>/<yyyy>/<mm>/<dd>/<hh>/` (default `scones-report`). */
  schedule: string;
  /** EMBEDDING_SAMPLE_SIZE: inputs embedded by the model for embedding drift (default 500; 0: off). */
  embeddingSampleSize: number;
  /** OUTPUT_DIR: write the report to this directory instead of the bucket (the CLI entry, tests). */
  outputDirectory?: string;
}

/** The job's environment is wrong; the message names the variable. */
export class ReportJobConfigError extends Error {
  override readonly name = 'ReportJobConfigError';
}

const DEFAULT_LOOKBACK = '24h';
/** The schedule name of the scheduled reports when SCHEDULE_NAME is not set. */
export const DEFAULT_SCHEDULE_NAME = 'scones-report';
// SageMaker's rule for endpoint and schedule names (they become folder names).
const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

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
  const name = (variable: string, value: string) => {
    if (!NAME.test(value)) throw new ReportJobConfigError(`${variable} ${JSON.stringify(value)}: expected 1-63 letters, digits and hyphens (SageMaker's rule)`);
    return value;
  };
  const sampleText = text('EMBEDDING_SAMPLE_SIZE');
  const embeddingSampleSize = sampleText === undefined ? DEFAULT_EMBEDDING_SAMPLE_SIZE : Number(sampleText);
  if (!Number.isInteger(embeddingSampleSize) || embeddingSampleSize < 0 || !/^\d+$/.test(sampleText ?? '0')) {
    throw new ReportJobConfigError(`EMBEDDING_SAMPLE_SIZE ${JSON.stringify(sampleText)}: expected a whole number >= 0 (0 turns embedding drift off)`);
  }
  return {
    bucket: required('BUCKET', 'the S3 bucket holding data_capture/ and models/'),
    endpointName: name('ENDPOINT_NAME', required('ENDPOINT_NAME', 'the name of the endpoint whose captured traffic is reported')),
    manifestKey: text('MODEL_MANIFEST_KEY'),
    modelPrefix: text('MODEL_PREFIX') ?? DEFAULT_MODEL_PREFIX,
    lookbackMs,
    capturePrefix: text('CAPTURE_PREFIX') ?? DATA_CAPTURE_PREFIX,
    reportPrefix: text('REPORT_PREFIX') ?? DEFAULT_REPORT_PREFIX,
    schedule: name('SCHEDULE_NAME', text('SCHEDULE_NAME') ?? DEFAULT_SCHEDULE_NAME),
    embeddingSampleSize,
    outputDirectory: text('OUTPUT_DIR'),
  };
}
