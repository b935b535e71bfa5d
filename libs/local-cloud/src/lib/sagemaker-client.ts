import { SageMakerClient, type SageMakerClientConfig } from '@aws-sdk/client-sagemaker';
import { TargetConfigError } from '../errors';
import type { Target } from './target';

/**
 * Client configuration of the SageMaker control plane (CreateModel, CreateEndpoint, ...). It
 * exists only on AWS: a local target's endpoints are started in-process instead.
 */
export function sageMakerClientConfig(target: Target): SageMakerClientConfig {
  if (target.kind !== 'aws') throw new TargetConfigError('the SageMaker control plane exists only with --target aws (local endpoints are started by `scones deploy`)');
  return target.region ? { region: target.region } : {};
}

export function createSageMakerClient(target: Target): SageMakerClient {
  return new SageMakerClient(sageMakerClientConfig(target));
}
