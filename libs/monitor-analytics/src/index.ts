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
  type EmbeddingCandidate,
  type ImageStatistics,
  type InputExample,
  type TimeBucket,
} from './lib/capture-analyzer';
export {
  baselineFromManifest,
  loadBaselineFromDirectory,
  loadBaselineFromS3,
  findLatestManifestKey,
  newestManifestKey,
  manifestKeyForJob,
  resolveBaseline,
  type BaselineLocation,
  MANIFEST_FILE,
  DEFAULT_MODEL_PREFIX,
  type MonitoringBaseline,
} from './lib/baseline';
export {
  checkDrift,
  perCheckSignificance,
  DEFAULT_DRIFT_POLICY,
  type DriftPolicy,
  type DriftCheck,
  type DriftConstraint,
  type DriftReport,
  type DriftStatus,
  type DriftTest,
  type DriftObservations,
  type SignificanceRule,
} from './lib/drift';
export {
  analyzeEmbeddings,
  embeddingRules,
  normalizeEmbedding,
  DEFAULT_OOD_QUANTILE,
  type EmbeddingReference,
  type EmbeddingRules,
  type EmbeddingObservations,
  type EmbeddedInput,
  type ImageEmbedder,
} from './lib/embedding-drift';
export type { Matrix, RankTestResult } from './lib/embedding-statistics';
export {
  statisticsFile,
  constraintsFile,
  violationsFile,
  baselineFeatureData,
  type FeatureData,
} from './lib/model-monitor/documents';
export {
  statisticsFileSchema,
  constraintsFileSchema,
  constraintViolationsFileSchema,
  MODEL_MONITOR_FILES,
  MODEL_MONITOR_SCHEMAS,
  CONSTRAINT_CHECK_TYPES,
  type StatisticsFile,
  type StatisticsFeature,
  type ConstraintsFile,
  type ConstraintFeature,
  type ConstraintViolation,
  type ConstraintViolationsFile,
  type ConstraintCheckType,
} from './lib/model-monitor/schema';
export { KllSketch } from './lib/model-monitor/kll-sketch';
export { analyzeCapture, DEFAULT_EMBEDDING_SAMPLE_SIZE, type AnalyzeCaptureOptions, type AnalyzeProgress, type MonitoringAnalysis } from './lib/analyze-capture';
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
export { seededRandom } from './lib/random';
export {
  normalSample,
  syntheticImage,
  probabilitiesFor,
  createCaptureRecord,
  captureFiles,
  syntheticManifest,
  syntheticBaseline,
  syntheticTraffic,
  cifarLikeProfile,
  colourFeatures,
  colourEmbedder,
  syntheticEmbeddingBaseline,
  type TrafficProfile,
} from './lib/synthetic-traffic';
