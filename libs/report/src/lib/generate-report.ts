import type { S3Client } from '@aws-sdk/client-s3';
import { artifactAtUrl, describeArtifactFile, loadClassifier, MANIFEST_FILE, readManifest } from '@scones/image-classifier';
import {
  analyzeCapture,
  baselineFromManifest,
  BaselineError,
  directoryCaptureSource,
  resolveBaseline,
  s3CaptureSource,
  type AnalyzeProgress,
  type BaselineLocation,
  type CaptureSource,
  type DriftCheck,
  type DriftPolicy,
  type ImageEmbedder,
  type MonitoringBaseline,
  type TimeWindow,
} from '@scones/monitor-analytics';
import { ReportError } from '../errors';
import { buildMonitoringReport } from './build-report';
import type { ReportSummary } from './report-summary';
import { checkReportName, ON_DEMAND_SCHEDULE, writeMonitoringReport, type ReportDestination, type WrittenReport } from './report-writer';

export interface GenerateReportOptions {
  endpointName: string;
  source: CaptureSource;
  baseline: MonitoringBaseline;
  destination: ReportDestination;
  /** The monitoring schedule the report belongs to: its folder is `<endpoint>/<schedule>/<yyyy>/<mm>/<dd>/<hh>/`. Default `on-demand`. */
  schedule?: string;
  window?: TimeWindow;
  policy?: DriftPolicy;
  imageSampleSize?: number;
  /** Computes the model's embeddings of sampled inputs (embedding drift, out-of-distribution share). */
  embedder?: ImageEmbedder;
  /** Inputs embedded, at most (default 500; 0 turns the embedding checks off). */
  embeddingSampleSize?: number;
  /** The report's timestamp (default: now). Its folder is the hour of the window's end, or of this time for an open window. */
  now?: Date;
  signal?: AbortSignal;
  onProgress?: (progress: AnalyzeProgress) => void;
}

export interface GeneratedReport {
  summary: ReportSummary;
  /** The violated checks (each a line of constraint_violations.json). */
  violations: DriftCheck[];
  written: WrittenReport;
}

/** Refuses options that cannot work before anything is read: names that cannot be folder names, a bad sample size. */
function checkOptions(options: { endpointName: string; schedule?: string; embeddingSampleSize?: number; imageSampleSize?: number }): void {
  checkReportName(options.endpointName, 'endpoint name');
  checkReportName(options.schedule ?? ON_DEMAND_SCHEDULE, 'schedule name');
  for (const [name, value] of [
    ['embeddingSampleSize', options.embeddingSampleSize],
    ['imageSampleSize', options.imageSampleSize],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) throw new ReportError(`${name}: expected a whole number >= 0, got ${value}`);
  }
}

/** The report job: analyse the window's capture, render the report, write it. Shared by the CLI and the Lambda. */
export async function generateMonitoringReport(options: GenerateReportOptions): Promise<GeneratedReport> {
  checkOptions(options);
  checkReportName(options.baseline.jobName, 'model (training job) name');
  const now = options.now ?? new Date();
  const schedule = options.schedule ?? ON_DEMAND_SCHEDULE;
  const analysis = await analyzeCapture({
    endpointName: options.endpointName,
    source: options.source,
    baseline: options.baseline,
    window: options.window,
    policy: options.policy,
    imageSampleSize: options.imageSampleSize,
    embedder: options.embedder,
    embeddingSampleSize: options.embeddingSampleSize,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  const report = await buildMonitoringReport(analysis, options.baseline, now, schedule);
  options.signal?.throwIfAborted();
  const written = await writeMonitoringReport(
    report,
    options.destination,
    { endpointName: options.endpointName, schedule, hourOf: options.window?.until ?? now, jobName: options.baseline.jobName },
    options.signal,
  );
  return { summary: report.summary, violations: analysis.drift.checks.filter((c) => c.status === 'violation'), written };
}

/** Where an endpoint's capture files are: a bucket (embedded or AWS) or a local copy. */
export type CaptureLocation = { kind: 's3'; client: S3Client; bucket: string; prefix?: string } | { kind: 'directory'; directory: string };

export interface EndpointReportOptions extends Omit<GenerateReportOptions, 'source' | 'baseline' | 'embedder'> {
  capture: CaptureLocation;
  /**
   * Which model's baseline, threshold and classes to use (see resolveBaseline), or `modelDataUrl`:
   * the model data a SageMaker model points to (`s3://…/model.tar.gz` or an S3 prefix), read with `model.s3`.
   */
  model: BaselineLocation & { modelDataUrl?: string };
  /**
   * Load the model (TensorFlow.js, wasm) to embed sampled inputs, when its manifest has embeddings.
   * Default true; false skips the embedding checks (they are reported as not available).
   */
  embeddings?: boolean;
}

/** An embedder that can be released. */
export interface LoadedEmbedder extends ImageEmbedder {
  dispose(): void;
}

/** The model of a baseline, loaded to embed images: from its artifact directory or S3 prefix (TensorFlow.js, wasm). */
export async function loadBaselineEmbedder(baseline: MonitoringBaseline, s3?: S3Client, signal?: AbortSignal): Promise<LoadedEmbedder> {
  const artifact = baseline.artifact;
  if (!artifact) throw new ReportError(`model ${baseline.jobName}: its artifact location is unknown, so its embeddings cannot be computed`);
  if ('directory' in artifact) return loadClassifier(artifact.directory, { signal });
  if (!s3) throw new ReportError(`model ${baseline.jobName} is in s3://${artifact.bucket}/: an S3 client is needed to load it`);
  return loadClassifier({ s3, ...artifact }, { signal });
}

/** The baseline in the manifest of a SageMaker model's data (a `model.tar.gz` or an S3 prefix). */
async function baselineOfModelData(url: string, s3: S3Client | undefined, signal?: AbortSignal): Promise<MonitoringBaseline> {
  if (!s3) throw new ReportError(`model data ${url}: an S3 client is needed to read it`);
  const location = artifactAtUrl(s3, url);
  const source = describeArtifactFile(location, MANIFEST_FILE);
  let manifest;
  try {
    manifest = await readManifest(location, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new BaselineError(`model manifest ${source}: ${(error as Error).message}`);
  }
  const artifact = 'tarball' in location ? { bucket: location.bucket, tarball: location.tarball } : { bucket: location.bucket, prefix: location.prefix };
  return { ...baselineFromManifest(manifest, source), artifact };
}

/**
 * The report job from locations rather than objects: resolves the model manifest (named, or the
 * newest in the bucket), loads the model when its manifest has embeddings, and the capture source,
 * then runs {@link generateMonitoringReport}. `scones report` and the report-generator Lambda are
 * thin wrappers around this.
 */
export async function generateEndpointReport(options: EndpointReportOptions): Promise<GeneratedReport & { baseline: MonitoringBaseline }> {
  checkOptions(options);
  const { capture, model, embeddings = true, ...rest } = options;
  const baseline = model.modelDataUrl ? await baselineOfModelData(model.modelDataUrl, model.s3?.client, options.signal) : await resolveBaseline({ ...model, signal: options.signal });
  checkReportName(baseline.jobName, 'model (training job) name');
  const source =
    capture.kind === 's3'
      ? s3CaptureSource({ client: capture.client, bucket: capture.bucket, endpointName: options.endpointName, prefix: capture.prefix })
      : directoryCaptureSource({ directory: capture.directory, endpointName: options.endpointName });
  const wanted = embeddings && baseline.embedding && (options.embeddingSampleSize ?? 1) > 0;
  const embedder = wanted ? await loadBaselineEmbedder(baseline, model.s3?.client, options.signal) : undefined;
  try {
    return { ...(await generateMonitoringReport({ ...rest, source, baseline, embedder })), baseline };
  } finally {
    embedder?.dispose();
  }
}
