import type { IncomingMessage } from 'node:http';
import type { SigningScope } from './request-context';

/** The services the stack routes to; each is served by one {@link StackService}. */
export type ServiceId = 's3' | 'sagemaker' | 'sagemaker-runtime' | 'states' | 'lambda' | 'sns' | 'logs' | 'sts';

export type Route = { kind: 'service'; service: ServiceId } | { kind: 'internal' } | { kind: 'unknown'; signingName?: string; target?: string };

/** `X-Amz-Target` prefixes of the JSON-protocol services, for requests that are not signed. */
const TARGET_PREFIXES: Record<string, ServiceId> = {
  SageMaker: 'sagemaker',
  AWSStepFunctions: 'states',
  Logs_20140328: 'logs',
};

/** SigV4 signing names the stack serves, and where they go. `sagemaker` is split below. */
const SIGNING_NAMES: Record<string, ServiceId> = {
  s3: 's3',
  sagemaker: 'sagemaker',
  states: 'states',
  lambda: 'lambda',
  sns: 'sns',
  logs: 'logs',
  sts: 'sts',
};

/** SageMaker Runtime shares the `sagemaker` signing name; its operations are paths under /endpoints/. */
const RUNTIME_PATH = /^\/endpoints\/[^/]+\/(invocations|async-invocations|invocations-response-stream)$/;

/** Internal routes of the stack itself (health, status, shutdown); never valid bucket names. */
export const INTERNAL_PREFIX = '/_scones/';

/**
 * Routes a request as AWS front ends do: by the service of its SigV4 credential scope, then by
 * `X-Amz-Target` or path where a signing name covers two APIs. Unsigned requests go to S3 (curl,
 * browsers, presigned-style tools) unless their target or path names another service.
 */
export function routeRequest(req: IncomingMessage, url: URL, scope: SigningScope): Route {
  if (url.pathname.startsWith(INTERNAL_PREFIX)) return { kind: 'internal' };
  const target = typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'] : undefined;
  if (scope.service) {
    const service = SIGNING_NAMES[scope.service];
    if (!service) return { kind: 'unknown', signingName: scope.service, target };
    if (service === 'sagemaker' && !target && RUNTIME_PATH.test(url.pathname)) return { kind: 'service', service: 'sagemaker-runtime' };
    return { kind: 'service', service };
  }
  if (target) {
    const prefix = target.slice(0, target.lastIndexOf('.'));
    const service = TARGET_PREFIXES[prefix];
    return service ? { kind: 'service', service } : { kind: 'unknown', target };
  }
  if (RUNTIME_PATH.test(url.pathname)) return { kind: 'service', service: 'sagemaker-runtime' };
  if (url.pathname.startsWith('/2015-03-31/functions')) return { kind: 'service', service: 'lambda' };
  return { kind: 'service', service: 's3' };
}

/** The protocol each service's errors are written in. */
export const SERVICE_PROTOCOLS = {
  s3: 'restXml',
  sagemaker: 'awsJson1_1',
  'sagemaker-runtime': 'restJson1',
  states: 'awsJson1_0',
  lambda: 'restJson1',
  sns: 'awsQuery',
  logs: 'awsJson1_1',
  sts: 'awsQuery',
} as const satisfies Record<ServiceId, string>;
