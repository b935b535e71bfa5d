import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient, type SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import { TargetConfigError } from '../errors';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type Target } from './target';

/**
 * The one place SDK clients are configured. Local: path-style addressing against the loopback
 * endpoint with the embedded stack's credentials. AWS: the SDK defaults (credential chain,
 * region, and `AWS_ENDPOINT_URL_*` overrides), so Lambda bundles need no special code.
 */
export function s3ClientConfig(target: Target): S3ClientConfig {
  if (target.kind === 'aws') return target.region ? { region: target.region } : {};
  return {
    endpoint: target.s3Endpoint,
    forcePathStyle: true,
    region: target.region ?? LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  };
}

export function sageMakerRuntimeClientConfig(target: Target): SageMakerRuntimeClientConfig {
  if (target.kind === 'aws') return target.region ? { region: target.region } : {};
  if (!target.sagemakerRuntimeEndpoint) {
    throw new TargetConfigError('local target: no SageMaker runtime endpoint (start or deploy a local endpoint first)');
  }
  return { endpoint: target.sagemakerRuntimeEndpoint, region: target.region ?? LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
}

export function createS3Client(target: Target): S3Client {
  return new S3Client(s3ClientConfig(target));
}

export function createSageMakerRuntimeClient(target: Target): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient(sageMakerRuntimeClientConfig(target));
}

/**
 * Environment for a process (a Lambda bundle, boto3, the AWS CLI) that should talk to the local
 * stack through the standard SDK variables.
 */
export function localSdkEnvironment(target: Extract<Target, { kind: 'local' }>): Record<string, string> {
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL_S3: target.s3Endpoint,
    AWS_REGION: target.region ?? LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
  if (target.sagemakerRuntimeEndpoint) env.AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME = target.sagemakerRuntimeEndpoint;
  return env;
}
