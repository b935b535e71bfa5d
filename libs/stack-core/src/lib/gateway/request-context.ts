import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DEFAULT_STACK_REGION, LOCAL_ACCOUNT_ID } from '../arn';

/** What the gateway learned about a request before handing it to a service. */
export interface RequestContext {
  /** The service it is routed to (a key of the stack's services: `s3`, `sagemaker`, `sagemaker-runtime`…). */
  service: string;
  /** The SigV4 signing name of the request (`s3`, `sagemaker`, `states`…), undefined when unsigned. */
  signingName?: string;
  region: string;
  accountId: string;
  accessKeyId?: string;
  /** `X-Amz-Target`, for JSON-protocol services. */
  target?: string;
  /** Path and query, parsed; `pathname` is the raw (still percent-encoded) path. */
  url: URL;
  /** Sent back as `x-amzn-RequestId` / `x-amz-request-id`. */
  requestId: string;
  /** When the gateway received the request (ms since the epoch). */
  receivedAt: number;
}

export interface SigningScope {
  accessKeyId?: string;
  region?: string;
  service?: string;
}

/**
 * The credential scope of a signed request: from the `Authorization` header
 * (`AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/s3/aws4_request, …`), from a presigned
 * URL's `X-Amz-Credential`, or SigV2 (`AWS AKID:signature`, S3 only). Signatures are not verified:
 * the stack listens on loopback and accepts any credentials, as LocalStack and moto do.
 */
export function signingScope(req: IncomingMessage, url: URL): SigningScope {
  const authorization = req.headers.authorization;
  if (authorization) {
    const credential = /Credential=([^,\s]+)/.exec(authorization);
    if (credential) return scopeOf(credential[1]);
    const v2 = /^AWS ([^:\s]+):/.exec(authorization);
    if (v2) return { accessKeyId: v2[1], service: 's3' };
  }
  const presigned = url.searchParams.get('X-Amz-Credential');
  if (presigned) return scopeOf(presigned);
  if (url.searchParams.has('AWSAccessKeyId')) return { accessKeyId: url.searchParams.get('AWSAccessKeyId') ?? undefined, service: 's3' };
  return {};
}

function scopeOf(credential: string): SigningScope {
  // AKID/date/region/service/aws4_request; SigV4a has no region: AKID/date/service/aws4_request.
  const parts = credential.split('/');
  if (parts.length === 5) return { accessKeyId: parts[0], region: parts[2], service: parts[3] };
  if (parts.length === 4) return { accessKeyId: parts[0], service: parts[2] };
  return { accessKeyId: parts[0] };
}

export function newRequestContext(req: IncomingMessage, service: string, scope: SigningScope, url: URL, defaultRegion = DEFAULT_STACK_REGION): RequestContext {
  const target = req.headers['x-amz-target'];
  return {
    service,
    signingName: scope.service,
    region: scope.region && scope.region !== '*' ? scope.region : defaultRegion,
    accountId: LOCAL_ACCOUNT_ID,
    accessKeyId: scope.accessKeyId,
    target: typeof target === 'string' ? target : undefined,
    url,
    requestId: randomUUID(),
    receivedAt: Date.now(),
  };
}
