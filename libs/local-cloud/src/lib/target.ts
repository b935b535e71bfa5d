import { STACK_CREDENTIALS } from '@scones/stack-core';
import { TargetConfigError } from '../errors';

/** Default bucket of the local stack. */
export const DEFAULT_LOCAL_BUCKET = 'scones';
/** Region reported to SDK clients by the local stack (any value works locally). */
export const LOCAL_REGION = 'us-east-1';
/** Credentials for the local stack (any are accepted there): the stack's own constant. */
export const LOCAL_CREDENTIALS = STACK_CREDENTIALS;

/** The IAM role local SageMaker requests name (the stack accepts any well-formed role ARN). */
export const LOCAL_ROLE_ARN = 'arn:aws:iam::000000000000:role/scones-local';

/**
 * Where a command's AWS calls go. `local`: the local stack on loopback — `endpoint` is its one URL
 * for every service (`scones up`); `s3Endpoint` / `sagemakerRuntimeEndpoint` name single servers
 * (an S3 server or a model server on its own, as tests and the Lambda bundles use). `aws`: the
 * real services with the SDK's default credential chain and region.
 */
export type Target =
  | { kind: 'local'; s3Endpoint: string; endpoint?: string; sagemakerRuntimeEndpoint?: string; region?: string }
  | { kind: 'aws'; region?: string };

export type TargetKind = Target['kind'];

/** The local stack at `url`: every service there. */
export function stackTarget(url: string, region: string = LOCAL_REGION): Extract<Target, { kind: 'local' }> {
  return { kind: 'local', endpoint: url, s3Endpoint: url, sagemakerRuntimeEndpoint: url, region };
}

export function parseTargetKind(value: string): TargetKind {
  if (value === 'local' || value === 'aws') return value;
  throw new TargetConfigError(`--target: expected "local" or "aws", got ${JSON.stringify(value)}`);
}
