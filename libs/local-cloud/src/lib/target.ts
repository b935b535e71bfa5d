import { TargetConfigError } from '../errors';

/** Default bucket of the embedded stack. */
export const DEFAULT_LOCAL_BUCKET = 'scones';
/** Region reported to SDK clients by the embedded stack (any value works locally). */
export const LOCAL_REGION = 'us-east-1';
/** Credentials for the embedded stack: s3rver's defaults, which it also accepts from any other SDK. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * Where a command's AWS calls go. `local`: the embedded stack on loopback (endpoints given);
 * `aws`: the real services with the SDK's default credential chain and region.
 */
export type Target =
  | { kind: 'local'; s3Endpoint: string; sagemakerRuntimeEndpoint?: string; region?: string }
  | { kind: 'aws'; region?: string };

export type TargetKind = Target['kind'];

export function parseTargetKind(value: string): TargetKind {
  if (value === 'local' || value === 'aws') return value;
  throw new TargetConfigError(`--target: expected "local" or "aws", got ${JSON.stringify(value)}`);
}
