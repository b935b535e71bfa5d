import type { ModelDataSource } from './model-data';
import type { ContainerDefinition, CreateTrainingJobInput, DataCaptureConfig, EndpointStatus, ProductionVariant } from './shapes';
import type { TrainingMetric } from './worker-protocol';

/*
 * What the SageMaker service persists under `<dataDir>/sagemaker/` (one JSON file per resource),
 * so models, endpoint configurations, endpoints and training jobs survive `down`/`up`.
 * Times are ms since the epoch.
 */

export interface ModelRecord {
  name: string;
  arn: string;
  creationTime: number;
  /** The CreateModel request as sent (Describe shows it again), minus ModelName and Tags. */
  request: Record<string, unknown>;
  /** The one container the stack serves (PrimaryContainer, or the only element of Containers). */
  container: ContainerDefinition;
  modelData: ModelDataSource;
  tags?: unknown[];
}

export interface EndpointConfigRecord {
  name: string;
  arn: string;
  creationTime: number;
  /** The CreateEndpointConfig request as sent, minus EndpointConfigName and Tags. */
  request: Record<string, unknown>;
  variant: ProductionVariant;
  capture?: DataCaptureConfig;
  tags?: unknown[];
}

/**
 * What one deployment of an endpoint serves: a snapshot of its configuration and model taken at
 * CreateEndpoint/UpdateEndpoint, as SageMaker does (deleting the model or the configuration
 * afterwards does not affect the running endpoint).
 */
export interface DeploymentSpec {
  /** Names the deployment's directory (model files, capture spool). */
  id: string;
  configName: string;
  variant: ProductionVariant;
  modelName: string;
  image: string;
  modelData: ModelDataSource;
  capture?: DataCaptureConfig;
  startTime: number;
}

export interface EndpointRecord {
  name: string;
  arn: string;
  configName: string;
  status: EndpointStatus;
  failureReason?: string;
  creationTime: number;
  lastModifiedTime: number;
  /** What serves, once InService. */
  deployed?: DeploymentSpec;
  /** What is being deployed (Creating, Updating). */
  pending?: DeploymentSpec;
  deploymentConfig?: unknown;
  tags?: unknown[];
}

export interface SecondaryStatusTransition {
  status: string;
  startTime: number;
  endTime?: number;
  message: string;
}

export type TrainingJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

export interface TrainingJobRecord {
  name: string;
  arn: string;
  /** The CreateTrainingJob request as sent (Describe shows it again, without Tags). */
  request: CreateTrainingJobInput;
  status: TrainingJobStatus;
  secondaryStatus: string;
  transitions: SecondaryStatusTransition[];
  failureReason?: string;
  creationTime: number;
  lastModifiedTime: number;
  trainingStartTime?: number;
  trainingEndTime?: number;
  artifactUri?: string;
  finalMetrics: TrainingMetric[];
  /** The CloudWatch Logs stream of the job's (single) instance. */
  logStream: string;
  tags?: unknown[];
}
