export { PayloadValidationError, WorkflowError, type PayloadIssue } from './errors';
export { parseOrThrow, parseJsonOrThrow, toPayloadIssues } from './lib/parse';
export { nonEmptyString, base64String, probability } from './lib/primitives';
export { workflowEventSchema, batchWorkflowEventSchema, type WorkflowEvent, type BatchWorkflowEvent } from './lib/workflow-event';
export { inferenceOutputSchema, PROBABILITY_SUM_TOLERANCE, INVOCATION_MAX_BODY_BYTES, type InferenceOutput } from './lib/inference-output';
export {
  lambdaBodySchema,
  lambdaResultSchema,
  classifiedResultSchema,
  type LambdaBody,
  type LambdaResult,
  type ClassifiedResult,
} from './lib/lambda-result';
export {
  dataCaptureRecordSchema,
  dataCaptureKey,
  dataCapturePrefix,
  parseDataCaptureKey,
  DEFAULT_VARIANT,
  DATA_CAPTURE_PREFIX,
  type DataCaptureRecord,
} from './lib/data-capture';
export { lstRowSchema, parseLst, formatLst, type LstRow } from './lib/lst';
export {
  modelManifestSchema,
  monitoringBaselineSchema,
  thresholdRecommendationSchema,
  brightnessSampleSchema,
  embeddingBaselineSchema,
  float32MatrixSchema,
  encodeFloat32Matrix,
  decodeFloat32Matrix,
  type EmbeddingBaseline,
  type Float32MatrixJson,
  type ModelManifest,
  type MonitoringBaseline,
  type ThresholdRecommendation,
} from './lib/model-manifest';
export { WorkflowErrorName, TRANSIENT_ENDPOINT_ERRORS, LAMBDA_SERVICE_ERRORS } from './lib/workflow-errors';
export { endpointNameSchema, ENDPOINT_NAME_PATTERN } from './lib/endpoint-name';
export {
  bucketLayout,
  normalizeDataPrefix,
  DEFAULT_BUCKET_LAYOUT,
  DEFAULT_DATA_PREFIX,
  MODELS_PREFIX,
  REPORTS_PREFIX,
  type BucketLayout,
} from './lib/bucket-layout';
