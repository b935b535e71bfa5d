import { AwsError } from '@scones/stack-core';

/** The SageMaker resources the stack keeps, with the ARN resource type and AWS's name for them in messages. */
export const RESOURCE_KINDS = {
  model: { arnType: 'model', noun: 'model' },
  endpointConfig: { arnType: 'endpoint-config', noun: 'endpoint configuration' },
  endpoint: { arnType: 'endpoint', noun: 'endpoint' },
  trainingJob: { arnType: 'training-job', noun: 'training job' },
} as const;

export type ResourceKind = keyof typeof RESOURCE_KINDS;

/**
 * SageMaker names are unique regardless of case (`MyEndpoint` and `myendpoint` are the same
 * endpoint) and ARNs carry them in lower case: the key of every stored resource.
 */
export function resourceKey(name: string): string {
  return name.toLowerCase();
}

export function resourceArn(kind: ResourceKind, region: string, accountId: string, name: string): string {
  return `arn:aws:sagemaker:${region}:${accountId}:${RESOURCE_KINDS[kind].arnType}/${name.toLowerCase()}`;
}

/** AWS's answer to Describe/Delete/references of a missing model, endpoint configuration or endpoint. */
export function couldNotFind(kind: Exclude<ResourceKind, 'trainingJob'>, arn: string): AwsError {
  return new AwsError('ValidationException', `Could not find ${RESOURCE_KINDS[kind].noun} "${arn}".`, 400);
}

/** AWS's answer to creating a model, endpoint configuration or endpoint whose name is taken. */
export function alreadyExists(kind: Exclude<ResourceKind, 'trainingJob'>, arn: string): AwsError {
  return new AwsError('ValidationException', `Cannot create already existing ${RESOURCE_KINDS[kind].noun} "${arn}".`, 400);
}

/** DescribeTrainingJob/StopTrainingJob of a missing job: AWS answers ValidationException, not the modeled ResourceNotFound. */
export function trainingJobNotFound(): AwsError {
  return new AwsError('ValidationException', 'Requested resource not found.', 400);
}

/** A feature the stack cannot honour, refused rather than silently ignored. */
export function unsupported(field: string, why: string): AwsError {
  return new AwsError('ValidationException', `${field}: ${why}`, 400);
}

/** Epoch seconds with milliseconds, the awsJson timestamp format. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** `s3://bucket/key` split; undefined when `uri` is not an S3 URI. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return m ? { bucket: m[1], key: m[2] } : undefined;
}
