import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient, type SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import { TargetConfigError } from '../errors';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type Target } from './target';

/** What every client of a local target shares: the endpoint, the region and the stack's credentials. */
export interface LocalClientConfig {
  endpoint: string;
  region: string;
  credentials: typeof LOCAL_CREDENTIALS;
}

/**
 * The client configuration of one service: on AWS the SDK defaults (credential chain, region,
 * `AWS_ENDPOINT_URL_*`), so Lambda bundles need no special code; locally the stack's URL.
 * Services other than S3 and SageMaker Runtime exist only on the stack (`endpoint`).
 */
export function serviceClientConfig(target: Target, service: string): LocalClientConfig | { region?: string } {
  if (target.kind === 'aws') return target.region ? { region: target.region } : {};
  const endpoint = service === 's3' ? (target.endpoint ?? target.s3Endpoint) : service === 'sagemaker-runtime' ? (target.sagemakerRuntimeEndpoint ?? target.endpoint) : target.endpoint;
  if (!endpoint) {
    throw new TargetConfigError(
      service === 'sagemaker-runtime'
        ? 'local target: no SageMaker runtime endpoint (start the local stack with `scones up`, or deploy an endpoint first)'
        : `local target: ${service} is served by the local stack only (\`scones up\`), and this target names no stack URL`,
    );
  }
  return { endpoint, region: target.region ?? LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
}

/** The one place SDK clients are configured. Local S3: path-style addressing (no bucket subdomains on loopback). */
export function s3ClientConfig(target: Target): S3ClientConfig {
  const config = serviceClientConfig(target, 's3');
  return target.kind === 'local' ? { ...config, forcePathStyle: true } : config;
}

export function sageMakerRuntimeClientConfig(target: Target): SageMakerRuntimeClientConfig {
  return serviceClientConfig(target, 'sagemaker-runtime');
}

export function createS3Client(target: Target): S3Client {
  return new S3Client(s3ClientConfig(target));
}

export function createSageMakerRuntimeClient(target: Target): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient(sageMakerRuntimeClientConfig(target));
}

/**
 * Environment for a process (a Lambda bundle, boto3, the AWS CLI) that should talk to the local
 * target through the standard SDK variables.
 */
export function localSdkEnvironment(target: Extract<Target, { kind: 'local' }>): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: target.region ?? LOCAL_REGION,
    AWS_DEFAULT_REGION: target.region ?? LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
  if (target.endpoint) env.AWS_ENDPOINT_URL = target.endpoint;
  if (!target.endpoint || target.s3Endpoint !== target.endpoint) env.AWS_ENDPOINT_URL_S3 = target.s3Endpoint;
  if (target.sagemakerRuntimeEndpoint && target.sagemakerRuntimeEndpoint !== target.endpoint) env.AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME = target.sagemakerRuntimeEndpoint;
  return env;
}
