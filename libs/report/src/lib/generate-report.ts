import type { S3Client } from '@aws-sdk/client-s3';
import {
  analyzeCapture,
  directoryCaptureSource,
  resolveBaseline,
  s3CaptureSource,
  type AnalyzeProgress,
  type BaselineLocation,
  type CaptureSource,
  type DriftPolicy,
  type DriftViolation,
  type MonitoringBaseline,
  type TimeWindow,
} from '@scones/monitor-analytics';
import { buildMonitoringReport } from './build-report';
import type { ReportSummary } from './report-summary';
import { writeMonitoringReport, type ReportDestination, type WrittenReport } from './report-writer';

export interface GenerateReportOptions {
  endpointName: string;
  source: CaptureSource;
  baseline: MonitoringBaseline;
  destination: ReportDestination;
  window?: TimeWindow;
  policy?: DriftPolicy;
  imageSampleSize?: number;
  /** The report's timestamp (default: now). */
  now?: Date;
  signal?: AbortSignal;
  onProgress?: (progress: AnalyzeProgress) => void;
}

export interface GeneratedReport {
  summary: ReportSummary;
  violations: DriftViolation[];
  written: WrittenReport;
}

/** The report job: analyse the window's capture, render the report, write it. Shared by the CLI and the Lambda. */
export async function generateMonitoringReport(options: GenerateReportOptions): Promise<GeneratedReport> {
  const now = options.now ?? new Date();
  const analysis = await analyzeCapture({
    endpointName: options.endpointName,
    source: options.source,
    baseline: options.baseline,
    window: options.window,
    policy: options.policy,
    imageSampleSize: options.imageSampleSize,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  const report = await buildMonitoringReport(analysis, options.baseline, now);
  options.signal?.throwIfAborted();
  const written = await writeMonitoringReport(report, options.destination, options.endpointName, now, options.signal);
  return { summary: report.summary, violations: report.violations.violations, written };
}

/** Where an endpoint's capture files are: a bucket (embedded or AWS) or a local copy. */
export type CaptureLocation = { kind: 's3'; client: S3Client; bucket: string; prefix?: string } | { kind: 'directory'; directory: string };

export interface EndpointReportOptions extends Omit<GenerateReportOptions, 'source' | 'baseline'> {
  capture: CaptureLocation;
  /** Which model's baseline, threshold and classes to use (see resolveBaseline). */
  model: BaselineLocation;
}

/**
 * The report job from locations rather than objects: resolves the model manifest (named, or the
 * newest in the bucket) and the capture source, then runs {@link generateMonitoringReport}.
 * `scones report` and the report-generator Lambda are thin wrappers around this.
 */
export async function generateEndpointReport(options: EndpointReportOptions): Promise<GeneratedReport & { baseline: MonitoringBaseline }> {
  const { capture, model, ...rest } = options;
  const baseline = await resolveBaseline({ ...model, signal: options.signal });
  const source =
    capture.kind === 's3'
      ? s3CaptureSource({ client: capture.client, bucket: capture.bucket, endpointName: options.endpointName, prefix: capture.prefix })
      : directoryCaptureSource({ directory: capture.directory, endpointName: options.endpointName });
  return { ...(await generateMonitoringReport({ ...rest, source, baseline })), baseline };
}
