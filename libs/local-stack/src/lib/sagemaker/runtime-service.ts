import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { INVOCATION_MAX_BODY_BYTES } from '@scones/payload-schemas';
import { AwsError } from '@scones/stack-core';
import type { RequestContext } from '@scones/stack-core';
import { discardBody } from '@scones/stack-core';
import { renderError } from '@scones/stack-core';
import type { StackContext, StackService } from '@scones/stack-core';
import type { SageMakerService } from './sagemaker-service';

const INVOCATIONS = /^\/endpoints\/([^/]+)\/(invocations|async-invocations|invocations-response-stream)$/;

/** Request headers InvokeEndpoint passes to the container (the rest are the client's and the signature's). */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'accept', 'x-amzn-sagemaker-custom-attributes', 'x-amzn-sagemaker-inference-id'] as const;
/** Response headers that belong to the hop to the endpoint's process, not to the client's answer. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'x-amzn-requestid']);

function runtimeError(code: string, message: string, status: number, fields: Record<string, string | number> = {}): AwsError {
  return new AwsError(code, message, status, fields);
}

function notFound(name: string, accountId: string, status?: string): AwsError {
  // SageMaker's wording; the stack adds the status when the endpoint exists but does not serve.
  const detail = status ? ` (its status on the local stack is ${status})` : '';
  return runtimeError('ValidationError', `Endpoint ${name} of account ${accountId} not found.${detail}`, 400);
}

/**
 * SageMaker Runtime (restJson1, `POST /endpoints/{EndpointName}/invocations`): InvokeEndpoint is
 * proxied to the process serving the endpoint (the project's model server, which answers with
 * SageMaker's shapes: ModelError 424 with OriginalStatusCode, 413 above 6 MB, the invoked
 * variant header, and writes data capture). Kept lean for the benchmark: one keep-alive agent,
 * the body read once and written once, the answer streamed back.
 */
export function createSageMakerRuntimeService(stack: StackContext): StackService {
  const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo' });
  let sagemaker: SageMakerService | undefined;
  const maxBody = INVOCATION_MAX_BODY_BYTES;
  /** Answers per endpoint and HTTP status, as CloudWatch's Invocations / Invocation4XXErrors would count them. */
  const answered = new Map<string, Record<string, number>>();
  const count = (endpoint: string, status: number) => {
    let byStatus = answered.get(endpoint);
    if (!byStatus) answered.set(endpoint, (byStatus = {}));
    byStatus[status] = (byStatus[status] ?? 0) + 1;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, port: number, path: string, body: Buffer, retried: boolean) => {
    const headers: Record<string, string> = { 'content-length': String(body.length) };
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const upstream = httpRequest({ agent, host: '127.0.0.1', port, method: 'POST', path, headers }, (answer) => {
      // Answers are small (class probabilities, error JSON): one write of head and body to the
      // client costs less than streaming them through.
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.once('end', () => {
        count(endpointOf(path), answer.statusCode ?? 502);
        res.writeHead(answer.statusCode ?? 502, responseHeaders(answer.headers, ctx.requestId));
        res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
      });
      answer.once('error', (error) => res.destroy(error));
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy(error);
        return;
      }
      // A kept-alive connection the process closed just as it was reused: send again on a new one.
      if (!retried && upstream.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
        forward(req, res, ctx, port, path, body, true);
        return;
      }
      const refused = error.code === 'ECONNREFUSED';
      renderError(
        res,
        refused
          ? runtimeError('ServiceUnavailable', `the process serving endpoint ${decodeURIComponent(path.split('/')[2])} is restarting; retry shortly`, 503)
          : runtimeError('InternalFailure', `the connection to the endpoint's process failed: ${error.message}`, 500),
        'restJson1',
        ctx.requestId,
      );
    });
    upstream.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> => {
    const match = INVOCATIONS.exec(ctx.url.pathname);
    if (!match) throw runtimeError('UnknownOperationException', `SageMaker Runtime: no operation at ${req.method} ${ctx.url.pathname}; the local stack serves POST /endpoints/{EndpointName}/invocations`, 404);
    if (match[2] !== 'invocations') {
      discardBody(req);
      throw runtimeError(
        'ValidationError',
        match[2] === 'async-invocations' ? 'InvokeEndpointAsync is not supported by the local stack (no asynchronous inference)' : 'InvokeEndpointWithResponseStream is not supported by the local stack',
        400,
      );
    }
    if (req.method !== 'POST') throw runtimeError('ValidationError', `InvokeEndpoint: expected POST, got ${req.method}`, 405);
    let name: string;
    try {
      name = decodeURIComponent(match[1]);
    } catch {
      name = match[1];
    }
    sagemaker ??= stack.service<SageMakerService>('sagemaker');
    const route = sagemaker?.endpointRoute(name);
    if (!route) {
      discardBody(req);
      throw notFound(name, stack.accountId, sagemaker?.endpointStatus(name));
    }
    const variant = req.headers['x-amzn-sagemaker-target-variant'];
    if (typeof variant === 'string' && variant !== route.variantName) {
      discardBody(req);
      throw runtimeError('ValidationError', `Variant ${variant} not found for endpoint ${name}; it serves ${route.variantName}`, 400);
    }
    for (const [header, what] of [
      ['x-amzn-sagemaker-target-model', 'TargetModel (multi-model endpoints)'],
      ['x-amzn-sagemaker-inference-component', 'InferenceComponentName (inference components)'],
      ['x-amzn-sagemaker-target-container-hostname', 'TargetContainerHostname (multi-container endpoints)'],
      ['x-amzn-sagemaker-session-id', 'SessionId (stateful sessions)'],
    ] as const) {
      if (req.headers[header] !== undefined) {
        discardBody(req);
        throw runtimeError('ValidationError', `${what} is not supported by the local stack; endpoint ${name} serves one model`, 400);
      }
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBody) {
      // Like the model server: the rest is read and dropped, unless it is too large to be worth it.
      const hopeless = Number(declared) > Math.max(4 * maxBody, 32 * 1024 * 1024);
      throw new AwsError('ValidationError', `Request has oversize body: ${tooLargeMessage(maxBody, Number(declared))}`, 413, {}, hopeless ? { connection: 'close' } : {});
    }
    const body = await readInvocationBody(req, maxBody);
    if (route.port === undefined) throw runtimeError('ServiceUnavailable', `the process serving endpoint ${name} is starting; retry shortly`, 503);
    forward(req, res, ctx, route.port, `/endpoints/${encodeURIComponent(route.endpointName)}/invocations`, body, false);
  };

  return {
    id: 'sagemaker-runtime',
    handle: (req, res, ctx) =>
      handle(req, res, ctx).catch((error: unknown) => {
        discardBody(req);
        renderError(res, error, 'restJson1', ctx.requestId);
      }),
    close: async () => agent.destroy(),
    status: async () => ({ invocations: Object.fromEntries(answered) }),
  };
}

/** `/endpoints/<name>/invocations` → the endpoint's name. */
function endpointOf(path: string): string {
  return decodeURIComponent(path.split('/')[2] ?? '');
}

/** The answer's headers, with the gateway's request id (the one the stack logs). */
function responseHeaders(headers: IncomingHttpHeaders, requestId: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { 'x-amzn-RequestId': requestId };
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_HEADERS.has(name)) out[name] = value;
  return out;
}

/**
 * The body, at most `limit` bytes (a chunked body has no Content-Length to refuse up front):
 * beyond it the rest is read and dropped, so the client gets its 413 on a usable connection.
 */
function readInvocationBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.once('end', () => {
      if (size > limit) reject(runtimeError('ValidationError', `Request has oversize body: ${tooLargeMessage(limit, size)}`, 413));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.once('error', reject);
  });
}

/** The model server's wording for an oversize body. */
function tooLargeMessage(limit: number, received: number): string {
  return `request body of ${received} bytes or more exceeds the ${limit}-byte limit`;
}
