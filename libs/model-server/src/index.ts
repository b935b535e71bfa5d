export {
  ModelServerError,
  QueueFullError,
  InferenceTimeoutError,
  ModelInferenceError,
  PayloadTooLargeError,
  CaptureWriteError,
  ModelServerConfigError,
} from './errors';
export type { Predictor } from './lib/predictor';
// The structured JSON logger is the stack core's (one logger for the stack and the endpoints).
export { createJsonLogger, parseLogLevel, silentLogger, type Logger, type LogLevel, type LogFields, type JsonLoggerOptions } from '@scones/stack-core';
export { MicroBatcher, type MicroBatcherOptions, type BatcherStats } from './lib/micro-batcher';
export type { Clock } from './lib/clock';
export {
  startInferenceWorkers,
  isInferenceWorker,
  serveInferenceWorker,
  InferenceWorkerPool,
  type InferenceWorkerOptions,
  type InferenceWorkerInfo,
} from './lib/inference-worker';
export { S3CaptureSink, DirectoryCaptureSink, type CaptureSink } from './lib/capture-sink';
export { DataCaptureWriter, type DataCaptureOptions, type CaptureInput, type CaptureStats } from './lib/data-capture-writer';
export {
  ModelServer,
  createModelServer,
  DEFAULT_MAX_BODY_BYTES,
  IMAGE_CONTENT_TYPES,
  type ModelServerOptions,
  type ModelServerStats,
  type ListenOptions,
} from './lib/model-server';
export { INVOKED_VARIANT_HEADER } from './lib/sagemaker-errors';
export { parseCaptureDestination, createCaptureSink, type CaptureDestination } from './lib/capture-destination';
export { startModelEndpoint, servingThreads, type ModelEndpoint, type ModelEndpointOptions } from './lib/model-endpoint';
export {
  deployToSageMaker,
  describeDeployedModel,
  type DeployedModel,
  dataCaptureConfig,
  SageMakerDeploymentError,
  DEFAULT_INSTANCE_TYPE,
  type SageMakerDeploymentOptions,
  type SageMakerDeployment,
} from './lib/sagemaker-deployment';
