import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../json-logger';
import { AwsError } from '../aws-error';
import { discardBody } from '../protocol/body';
import { renderError, type Protocol } from '../protocol/render-error';
import type { StackService } from '../service';
import { newRequestContext, signingScope } from './request-context';
import { routeRequest, SERVICE_PROTOCOLS, type ServiceId } from './routing';

export interface GatewayOptions {
  services: ReadonlyMap<ServiceId, StackService>;
  /** `/_scones/*`: health, status, shutdown. */
  internal(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  /** False while the stack starts or stops: AWS requests get 503 ServiceUnavailable. */
  accepting(): boolean;
  region: string;
  logger: Logger;
}

/**
 * The stack's one HTTP entry: routes each request to its service (see {@link routeRequest}) and
 * makes sure every failure reaches the client in that service's error shape.
 */
export function gatewayHandler(options: GatewayOptions): RequestListener {
  const served = [...options.services.keys()].sort().join(', ');
  return (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://stack.local');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`bad request target ${JSON.stringify(req.url)}\n`);
      return;
    }
    const scope = signingScope(req, url);
    const route = routeRequest(req, url, scope);
    if (route.kind === 'internal') {
      options.internal(req, res, url).catch((error) => renderError(res, error, 'restJson1', 'internal'));
      return;
    }
    const service = route.kind === 'service' ? options.services.get(route.service) : undefined;
    const id = route.kind === 'service' ? route.service : 'unknown';
    const ctx = newRequestContext(req, id, scope, url, options.region);
    const protocol: Protocol = route.kind === 'service' ? SERVICE_PROTOCOLS[route.service] : guessProtocol(req);
    const head = req.method === 'HEAD';
    if (!service) {
      const what = route.kind === 'unknown' ? (route.signingName ? `service "${route.signingName}"` : `X-Amz-Target "${route.target}"`) : `service "${id}"`;
      discardBody(req);
      renderError(res, new AwsError('UnsupportedService', `the scones local stack does not serve ${what}; it serves: ${served}`, 400), protocol, ctx.requestId, { head, service: id });
      return;
    }
    if (!options.accepting()) {
      discardBody(req);
      renderError(res, new AwsError('ServiceUnavailable', 'the local stack is starting or stopping; retry in a moment', 503), protocol, ctx.requestId, { head, service: id });
      return;
    }
    const started = performance.now();
    res.once('finish', () =>
      options.logger.debug('request', { service: id, method: req.method, path: url.pathname, target: ctx.target, status: res.statusCode, ms: Math.round((performance.now() - started) * 100) / 100, requestId: ctx.requestId }),
    );
    service.handle(req, res, ctx).catch((error: unknown) => {
      if (!(error instanceof AwsError)) options.logger.error('service failed', { service: id, path: url.pathname, target: ctx.target, error });
      discardBody(req);
      renderError(res, error, protocol, ctx.requestId, { head, service: id });
    });
  };
}

/** For a service the stack does not know: answer in the protocol its SDK will parse. */
function guessProtocol(req: IncomingMessage): Protocol {
  if (req.headers['x-amz-target']) return 'awsJson1_1';
  const type = req.headers['content-type'] ?? '';
  if (type.includes('x-www-form-urlencoded')) return 'awsQuery';
  if (type.includes('json')) return 'restJson1';
  return 'restXml';
}
