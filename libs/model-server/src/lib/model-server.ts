import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { decodeImage, ImageDecodeError } from '@scones/image-classifier';
import { DEFAULT_VARIANT, ENDPOINT_NAME_PATTERN, INVOCATION_MAX_BODY_BYTES } from '@scones/payload-schemas';
import { InferenceTimeoutError, ModelServerConfigError, PayloadTooLargeError, QueueFullError } from '../errors';
import { silentLogger, type Logger } from '@scones/stack-core';
import type { DataCaptureWriter } from './data-capture-writer';
import { MicroBatcher, type BatcherStats, type MicroBatcherOptions, type ModelInput } from './micro-batcher';
import type { Predictor } from './predictor';
import { readRequestBody } from './request-body';
import { awsErrorBody, INVOKED_VARIANT_HEADER, modelClientError, unknownEndpointError, type AwsErrorAnswer } from './sagemaker-errors';
import type { CaptureStats } from './data-capture-writer';

/** SageMaker's InvokeEndpoint payload limit: 6 MB. */
export const DEFAULT_MAX_BODY_BYTES = INVOCATION_MAX_BODY_BYTES;

/** Content types the endpoint accepts (those of SageMaker's built-in image classifier). */
export const IMAGE_CONTENT_TYPES = ['image/png', 'image/jpeg', 'application/x-image'] as const;

export interface ModelServerOptions {
  /** The endpoint's name: the only one `POST /endpoints/{name}/invocations` answers for. */
  endpointName: string;
  /** The model; may also be given later with {@link ModelServer.setPredictor} (`/ping` is 503 until then). */
  predictor?: Predictor;
  /** Largest request body in bytes. Default 6 MB (SageMaker's limit). */
  maxBodyBytes?: number;
  /** Micro-batching and queue limits (see {@link MicroBatcherOptions}). */
  batching?: MicroBatcherOptions;
  /** A request must arrive completely within this time, in ms. Default 60 s (SageMaker's model timeout). */
  requestTimeoutMs?: number;
  /** Data capture of served requests; closed by {@link ModelServer.close}. */
  capture?: DataCaptureWriter;
  /** Production variant reported in `X-Amzn-Invoked-Production-Variant`. Default `AllTraffic`. */
  variant?: string;
  logger?: Logger;
}

export interface ModelServerStats {
  /** Invocation (and other non-/ping) requests answered, by HTTP status. */
  responses: Record<string, number>;
  /** `/ping` requests answered. */
  pings: number;
  inFlight: number;
  batching?: BatcherStats;
  capture?: CaptureStats;
}

export interface ListenOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1; a container uses 0.0.0.0. */
  host?: string;
}

/** A failed request: the status and message the container contract answers with. */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly closeConnection = false,
  ) {
    super(message);
  }
}

type Route = { kind: 'ping' } | { kind: 'invocations'; endpointName?: string } | { kind: 'unknown' };

const RUNTIME_PATH = /^\/endpoints\/([^/]+)\/invocations$/;

function route(request: IncomingMessage): Route {
  const path = (request.url ?? '/').split('?', 1)[0];
  if (path === '/ping') return { kind: 'ping' };
  if (path === '/invocations') return { kind: 'invocations' };
  const m = RUNTIME_PATH.exec(path);
  if (m) {
    let name = m[1];
    try {
      name = decodeURIComponent(name);
    } catch {
      /* a malformed escape: keep the raw text, which matches no endpoint */
    }
    return { kind: 'invocations', endpointName: name };
  }
  return { kind: 'unknown' };
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';', 1)[0].trim().toLowerCase();
}

/**
 * An HTTP server for one model, speaking both the SageMaker inference-container contract
 * (`GET /ping`, `POST /invocations`) and the SageMaker Runtime API
 * (`POST /endpoints/{EndpointName}/invocations`), so the AWS SDKs' InvokeEndpoint works against it
 * with only the endpoint URL changed. Requests are decoded on arrival (or, for a model that
 * decodes in its worker threads, handed over as bytes) and predicted in micro-batches; served
 * requests go to data capture.
 */
export class ModelServer {
  readonly endpointName: string;
  private readonly server: Server;
  private readonly maxBodyBytes: number;
  private readonly variant: string;
  private readonly logger: Logger;
  private readonly capture?: DataCaptureWriter;
  private batcher?: MicroBatcher;
  private predictor?: Predictor;
  private decodesItself = false;
  private readonly responses: Record<string, number> = {};
  private pings = 0;
  private inFlight = 0;
  private readonly sockets = new Set<Socket>();
  private drained?: () => void;
  private closing?: Promise<void>;
  private address?: AddressInfo;

  constructor(private readonly options: ModelServerOptions) {
    if (!ENDPOINT_NAME_PATTERN.test(options.endpointName)) {
      throw new ModelServerConfigError(
        `endpoint name ${JSON.stringify(options.endpointName)} is not valid: 1-63 letters, digits and hyphens, starting and ending with a letter or digit`,
      );
    }
    this.endpointName = options.endpointName;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (!Number.isInteger(this.maxBodyBytes) || this.maxBodyBytes < 1) throw new ModelServerConfigError(`maxBodyBytes: expected a positive integer, got ${options.maxBodyBytes}`);
    this.variant = options.variant ?? DEFAULT_VARIANT;
    this.logger = options.logger ?? silentLogger;
    this.capture = options.capture;
    if (options.predictor) this.setPredictor(options.predictor);
    const requestTimeout = options.requestTimeoutMs ?? 60_000;
    // Node checks request timeouts only every connectionsCheckingInterval (30 s by default).
    const connectionsCheckingInterval = Math.max(50, Math.min(1000, Math.floor(requestTimeout / 4)));
    this.server = createServer({ keepAlive: true, connectionsCheckingInterval }, (request, response) => void this.handle(request, response));
    this.server.requestTimeout = requestTimeout;
    this.server.headersTimeout = Math.min(requestTimeout, 60_000);
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
      // Malformed HTTP or a request timeout: answer if the socket still can, never throw.
      if (socket.writable && !socket.destroyed) socket.end(`HTTP/1.1 ${error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
      else socket.destroy();
      this.logger.debug('client error', { error });
    });
  }

  /** Makes the model available; `/ping` answers 200 from now on. */
  setPredictor(predictor: Predictor): void {
    if (this.batcher) throw new ModelServerConfigError('the model server already has a model');
    this.batcher = new MicroBatcher(predictor, this.options.batching);
    this.predictor = predictor;
    this.decodesItself = typeof predictor.predictEncoded === 'function';
  }

  get ready(): boolean {
    return this.batcher !== undefined && !this.closing;
  }

  /** `http://host:port` once listening. */
  get url(): string {
    if (!this.address) throw new ModelServerConfigError('the model server is not listening');
    const host = this.address.address.includes(':') ? `[${this.address.address}]` : this.address.address;
    return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${this.address.port}`;
  }

  get port(): number {
    if (!this.address) throw new ModelServerConfigError('the model server is not listening');
    return this.address.port;
  }

  async listen({ port = 0, host = '127.0.0.1' }: ListenOptions = {}): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new ModelServerConfigError(`cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.address = this.server.address() as AddressInfo;
    this.logger.info('model server listening', { url: this.url, endpoint: this.endpointName, ready: this.ready });
    return this.url;
  }

  stats(): ModelServerStats {
    return { responses: { ...this.responses }, pings: this.pings, inFlight: this.inFlight, batching: this.batcher?.stats(), capture: this.capture?.stats() };
  }

  /**
   * Graceful shutdown: stops accepting connections, lets requests in progress finish (up to
   * `timeoutMs`, then closes their connections), and writes all pending data capture. Rejects if
   * capture records could not be written. Safe to call twice.
   */
  close({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      this.logger.info('model server stopping', { inFlight: this.inFlight });
      const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeIdleConnections();
      if (this.inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => (this.drained = resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        ]);
        clearTimeout(timer);
      }
      for (const socket of this.sockets) socket.destroy();
      await stopped;
      await this.batcher?.idle();
      try {
        await this.capture?.close();
      } finally {
        this.logger.info('model server stopped', { responses: this.responses, capture: this.capture?.stats() });
      }
    })();
    return this.closing;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    this.inFlight++;
    const target = route(request);
    const runtimeApi = target.kind === 'invocations' && target.endpointName !== undefined;
    let status = 500;
    let failure: HttpFailure | AwsErrorAnswer | undefined;
    let bytes = 0;
    try {
      if (target.kind === 'ping') {
        status = this.ping(request, response);
      } else if (target.kind === 'unknown') {
        failure = new HttpFailure(404, 'NotFound', `no route for ${request.method} ${request.url}: use GET /ping, POST /invocations or POST /endpoints/{name}/invocations`);
      } else if (request.method !== 'POST') {
        failure = new HttpFailure(405, 'MethodNotAllowed', `${request.method} is not allowed on ${request.url}: use POST`);
      } else if (runtimeApi && target.endpointName !== this.endpointName) {
        failure = unknownEndpointError(target.endpointName ?? '');
      } else {
        const result = await this.invoke(request);
        bytes = result.bytes;
        const headers: Record<string, string> = {
          'Content-Type': 'application/json',
          [INVOKED_VARIANT_HEADER]: this.variant,
        };
        if (runtimeApi) headers['x-amzn-RequestId'] = randomUUID();
        if (this.closing) headers.Connection = 'close';
        response.writeHead(200, headers).end(result.output);
        status = 200;
      }
    } catch (error) {
      failure = this.toFailure(error);
    }
    if (failure) status = this.sendFailure(response, failure, runtimeApi);
    if (target.kind === 'ping') this.pings++;
    else this.responses[status] = (this.responses[status] ?? 0) + 1;
    const fields = { method: request.method, path: request.url, status, bytes, ms: Math.round((performance.now() - started) * 100) / 100 };
    if (status >= 500) this.logger.error('request failed', { ...fields, error: failure && 'message' in failure ? failure.message : undefined });
    else if (status >= 400 && status !== 404) this.logger.warn('request rejected', { ...fields, error: failure?.message });
    else this.logger.debug('request', fields);
    this.inFlight--;
    if (this.inFlight === 0) this.drained?.();
  }

  private ping(request: IncomingMessage, response: ServerResponse): number {
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpFailure(405, 'MethodNotAllowed', `${request.method} is not allowed on /ping: use GET`);
    const status = this.ready && this.predictor?.healthy !== false ? 200 : 503;
    response.writeHead(status, { 'Content-Type': 'application/json' }).end(request.method === 'HEAD' ? undefined : JSON.stringify({ status: status === 200 ? 'Healthy' : 'Unhealthy' }));
    return status;
  }

  /** Reads, decodes and predicts one image; captures the exchange. */
  private async invoke(request: IncomingMessage): Promise<{ output: string; bytes: number }> {
    const batcher = this.batcher;
    if (!batcher || this.closing) throw new HttpFailure(503, 'ServiceUnavailable', this.closing ? 'the endpoint is shutting down' : 'the model is still loading; retry shortly');
    const contentType = request.headers['content-type'] ?? '';
    if (!(IMAGE_CONTENT_TYPES as readonly string[]).includes(mediaType(contentType))) {
      throw new HttpFailure(
        415,
        'UnsupportedMediaType',
        `content type ${contentType ? JSON.stringify(contentType) : '(none)'} is not supported: send ${IMAGE_CONTENT_TYPES.join(', ')}`,
      );
    }
    const body = await readRequestBody(request, this.maxBodyBytes);
    // A model that decodes in its worker threads gets the bytes: the HTTP thread decodes nothing.
    const input: ModelInput = this.decodesItself ? body : decodeImage(body);
    const probabilities = await batcher.predict(input);
    const output = JSON.stringify(probabilities);
    if (this.capture) {
      try {
        const inferenceId = request.headers['x-amzn-sagemaker-inference-id'];
        this.capture.capture({ contentType, body, output, inferenceId: typeof inferenceId === 'string' ? inferenceId : undefined });
      } catch (error) {
        this.logger.error('data capture failed for a served request', { error });
      }
    }
    return { output, bytes: body.length };
  }

  private toFailure(error: unknown): HttpFailure {
    if (error instanceof HttpFailure) return error;
    if (error instanceof ImageDecodeError) return new HttpFailure(400, 'ImageDecodeError', `ImageDecodeError: ${error.message}`);
    if (error instanceof PayloadTooLargeError) {
      return new HttpFailure(413, 'PayloadTooLarge', error.message, (error as PayloadTooLargeError & { closeConnection?: boolean }).closeConnection === true);
    }
    if (error instanceof QueueFullError) return new HttpFailure(429, 'TooManyRequests', error.message);
    if (error instanceof InferenceTimeoutError) return new HttpFailure(500, 'InferenceTimeout', error.message);
    const code = (error as { code?: string })?.code;
    if (code === 'ECONNRESET') return new HttpFailure(400, 'ClientClosed', (error as Error).message, true);
    return new HttpFailure(500, (error as Error)?.name ?? 'InternalFailure', (error as Error)?.message ?? String(error));
  }

  /** Answers a failure in the shape of the API the request used; returns the status sent. */
  private sendFailure(response: ServerResponse, failure: HttpFailure | AwsErrorAnswer, runtimeApi: boolean): number {
    if (response.headersSent || response.destroyed) return failure.status;
    let status: number;
    let body: string;
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (!(failure instanceof HttpFailure)) {
      status = failure.status;
      body = awsErrorBody(failure);
      headers['x-amzn-ErrorType'] = failure.code;
    } else if (runtimeApi) {
      const aws = this.runtimeAnswer(failure);
      status = aws.status;
      body = awsErrorBody(aws);
      headers['x-amzn-ErrorType'] = aws.code;
    } else {
      status = failure.status;
      body = JSON.stringify({ code: failure.status, type: failure.type, message: failure.message });
    }
    if (runtimeApi) headers['x-amzn-RequestId'] = randomUUID();
    const close = failure instanceof HttpFailure && failure.closeConnection;
    if (close || this.closing) headers.Connection = 'close';
    response.writeHead(status, headers).end(body);
    return status;
  }

  /** How SageMaker's runtime front end reports each container outcome. */
  private runtimeAnswer(failure: HttpFailure): AwsErrorAnswer {
    switch (failure.status) {
      case 413:
        return { status: 413, code: 'ValidationError', message: `Request has oversize body: ${failure.message}` };
      case 429:
        return { status: 429, code: 'ThrottlingException', message: failure.message };
      case 503:
        return { status: 503, code: 'ServiceUnavailable', message: failure.message };
      case 404:
      case 405:
        return { status: failure.status, code: 'ValidationError', message: failure.message };
      default:
        if (failure.status >= 500) {
          return {
            status: 424,
            code: 'ModelError',
            message: `Received server error (${failure.status}) from primary with message "${failure.message}". See the endpoint's log for ${this.endpointName} for more information.`,
            members: { OriginalStatusCode: failure.status, OriginalMessage: failure.message },
          };
        }
        return modelClientError(this.endpointName, failure.status, failure.message);
    }
  }
}

/** Creates a {@link ModelServer} (not yet listening). */
export function createModelServer(options: ModelServerOptions): ModelServer {
  return new ModelServer(options);
}
