import { SageMakerClient, type SageMakerClientConfig } from '@aws-sdk/client-sagemaker';
import { serviceClientConfig } from './client-config';
import type { Target } from './target';

/** The SageMaker control plane (CreateModel, CreateEndpoint, CreateTrainingJob…): on AWS or on the local stack. */
export function sageMakerClientConfig(target: Target): SageMakerClientConfig {
  return serviceClientConfig(target, 'sagemaker');
}

export function createSageMakerClient(target: Target): SageMakerClient {
  return new SageMakerClient(sageMakerClientConfig(target));
}
