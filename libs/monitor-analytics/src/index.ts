export { MonitorAnalyticsError, CaptureSourceError, BaselineError, TimeWindowError } from './errors';
export { parseDuration, parseTimePoint, parseTimeWindow } from './lib/time-window';
export {
  s3CaptureSource,
  directoryCaptureSource,
  fileMayOverlapWindow,
  MAX_CAPTURE_FILE_SPAN_MS,
  type CaptureSource,
  type CaptureFile,
  type TimeWindow,
  type S3CaptureSourceOptions,
  type DirectoryCaptureSourceOptions,
} from './lib/capture-source';
export { readLines, type NumberedLine } from './lib/line-reader';
export { parseCaptureLine, base64DecodedLength, type CapturedInference, type MalformedLine, type ParsedCaptureLine } from './lib/capture-record';
export {
  CaptureAnalyzer,
  REPORTED_QUANTILES,
  type CaptureAnalyzerOptions,
  type CaptureAnalysis,
  type CaptureMetrics,
  type CaptureObservations,
  type ImageStatistics,
  type InputExample,
  type TimeBucket,
} from './lib/capture-analyzer';
export {
  baselineFromManifest,
  loadBaselineFromDirectory,
  loadBaselineFromS3,
  findLatestManifestKey,
  manifestKeyForJob,
  resolveBaseline,
  type BaselineLocation,
  MANIFEST_FILE,
  DEFAULT_MODEL_PREFIX,
  type MonitoringBaseline,
} from './lib/baseline';
export {
  checkDrift,
  DEFAULT_DRIFT_POLICY,
  type DriftPolicy,
  type DriftCheck,
  type DriftConstraint,
  type DriftReport,
  type DriftStatus,
  type DriftTest,
  type DriftViolation,
  type DriftObservations,
  type ConstraintsDocument,
  type ViolationsDocument,
} from './lib/drift';
export { analyzeCapture, type AnalyzeCaptureOptions, type AnalyzeProgress, type MonitoringAnalysis } from './lib/analyze-capture';
export {
  quantileSorted,
  describeDistribution,
  histogram,
  kolmogorovSmirnov,
  chiSquareHomogeneity,
  populationStabilityIndex,
  chiSquareSurvival,
  chiSquareCriticalValue,
  type Distribution,
  type HistogramBin,
  type TestResult,
} from './lib/statistics';
export { chooseBucketSeconds } from './lib/time-buckets';
export {
  seededRandom,
  normalSample,
  syntheticImage,
  probabilitiesFor,
  createCaptureRecord,
  captureFiles,
  syntheticManifest,
  syntheticBaseline,
  syntheticTraffic,
  cifarLikeProfile,
  type TrafficProfile,
} from './lib/synthetic-traffic';
