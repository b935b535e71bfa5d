import type { S3Client } from '@aws-sdk/client-s3';
import { generateEndpointReport, type GeneratedReport } from '@scones/report';
import type { ReportJobConfig } from './job-config';

/** What the job reports back (the Lambda's result, the CLI entry's output). */
export interface ReportJobResult {
  report: string;
  location: string;
  endpointName: string;
  window: { since: string | null; until: string | null };
  model: string;
  schedule: string;
  records: number;
  malformed: number;
  belowThresholdShare: number | null;
  /** Share of the embedded inputs far from every training image (null without embeddings). */
  outOfDistributionShare: number | null;
  /** The violated checks' metrics (each a line of constraint_violations.json). */
  violations: string[];
  /** The Model Monitor files written: the report's, and its baseline's. */
  modelMonitor: { statistics: string; constraintViolations: string; baselineStatistics: string; baselineConstraints: string };
}

/** One run of the report job over `[until - lookback, until)`. */
export async function runReportJob(config: ReportJobConfig, s3: S3Client, until: Date, signal?: AbortSignal): Promise<ReportJobResult> {
  const generated: GeneratedReport = await generateEndpointReport({
    endpointName: config.endpointName,
    capture: { kind: 's3', client: s3, bucket: config.bucket, prefix: config.capturePrefix },
    model: { s3: { client: s3, bucket: config.bucket }, manifestKey: config.manifestKey, modelPrefix: config.modelPrefix },
    window: { since: new Date(until.getTime() - config.lookbackMs), until },
    schedule: config.schedule,
    embeddingSampleSize: config.embeddingSampleSize,
    destination: config.outputDirectory
      ? { kind: 'directory', directory: config.outputDirectory }
      : { kind: 's3', client: s3, bucket: config.bucket, prefix: config.reportPrefix },
    now: until,
    signal,
  });
  const { summary } = generated;
  return {
    report: generated.written.html,
    location: generated.written.location,
    endpointName: summary.endpointName,
    window: summary.window,
    model: summary.model.jobName,
    schedule: summary.schedule,
    records: summary.records.analyzed,
    malformed: summary.records.malformed,
    belowThresholdShare: summary.confidence.belowThreshold.share,
    outOfDistributionShare: summary.embedding.available ? summary.embedding.outOfDistribution.share : null,
    violations: generated.violations.map((v) => v.metric),
    modelMonitor: {
      statistics: generated.written.files.statistics,
      constraintViolations: generated.written.files.violations,
      baselineStatistics: generated.written.baseline.statistics,
      baselineConstraints: generated.written.baseline.constraints,
    },
  };
}
