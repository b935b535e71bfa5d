import type { ModelDataSource } from './model-data';

/*
 * Messages between the SageMaker service and its worker processes (JSON over the IPC channel).
 * Type-only: the stack process never loads the workers' code (TensorFlow.js, the trainer).
 */

/** What an endpoint worker serves: one production variant of one endpoint. */
export interface EndpointWorkerConfig {
  endpointName: string;
  variantName: string;
  /** The container image the model names (the service spawns workers only for images the stack can stand in for). */
  image: string;
  modelData: ModelDataSource;
  /** Where the model's files are unpacked (the worker's /opt/ml/model), kept across restarts. */
  modelDirectory: string;
  capture?: {
    /** `s3://bucket/prefix`, DataCaptureConfig.DestinationS3Uri. */
    destination: string;
    samplingPercentage: number;
    /** Local spool: captured records survive a crash of the worker and are uploaded by its next process. */
    spoolDirectory: string;
  };
  /** `/aws/sagemaker/Endpoints/<name>`-style logs go to the parent on stderr; this sets their level. */
  logLevel: string;
}

export type EndpointWorkerMessage =
  | {
      type: 'ready';
      port: number;
      fetchedModel: boolean;
      /** Where the start-up time went (ms from the worker process's start; its CPU time). */
      timings: { processStartToCodeLoadedMs: number; modelDataMs: number; modelLoadMs: number; processStartToReadyMs: number; cpuMs: number };
    }
  | { type: 'failed'; reason: string }
  | { type: 'stopped'; captured: number; written: number; pending: number };

/** One channel as the training worker receives it: where SageMaker would mount it, and where it is in S3. */
export interface TrainingChannelConfig {
  name: string;
  s3Uri: string;
  contentType?: string;
}

export interface TrainingWorkerConfig {
  jobName: string;
  /** `/opt/ml`-like working directory of the job, removed when it ends. */
  workDirectory: string;
  channels: TrainingChannelConfig[];
  hyperParameters: Record<string, string>;
  /** `s3://bucket/prefix` (OutputDataConfig.S3OutputPath). */
  outputPath: string;
  instanceCount: number;
}

export interface TrainingMetric {
  name: string;
  value: number;
  /** ms since the epoch. */
  timestamp: number;
}

export type TrainingWorkerMessage =
  | { type: 'status'; status: 'Downloading' | 'Training' | 'Uploading'; message: string }
  | { type: 'log'; lines: Array<{ timestamp: number; message: string }> }
  | { type: 'metrics'; metrics: TrainingMetric[] }
  | { type: 'completed'; artifactUri: string; metrics: TrainingMetric[]; trainingSeconds: number }
  | { type: 'failed'; reason: string }
  | { type: 'stopped' };
