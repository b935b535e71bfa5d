import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { silentLogger, type Logger } from './json-logger';
import { StackStartError } from '../errors';
import { DEFAULT_STACK_REGION, LOCAL_ACCOUNT_ID } from './arn';
import { gatewayHandler } from './gateway/gateway';
import type { ServiceId } from './gateway/routing';
import { claimDataDirectory } from './instance';
import type { StackContext, StackService } from './service';

/** Creates one service of the stack (no I/O: `start()` restores its state). */
export type ServiceFactory = (stack: StackContext) => StackService;

/** Where the stack keeps its state unless told otherwise (relative to the working directory). */
export const DEFAULT_DATA_DIR = '.scones';
/** LocalStack's port, the one users and tools already expect. */
export const DEFAULT_STACK_PORT = 4566;

export interface StackOptions {
  /** Default `.scones`. Everything the stack knows lives here and survives a restart. */
  dataDir?: string;
  /** Port on 127.0.0.1. Default 4566; 0 picks a free port. */
  port?: number;
  /** Region reported when a request does not say. Default us-east-1. */
  region?: string;
  logger?: Logger;
  /** Which services to run (default: all). */
  services?: readonly ServiceId[];
  /** How to start worker processes (endpoints, training jobs, Lambda runtimes); the kind and its arguments are appended. */
  workerCommand?: readonly string[];
  /** Called when a client asks the stack to stop (`scones down`); the owner then calls `close()`. */
  onShutdownRequest?(): void;
}

export interface StackServerOptions extends StackOptions {
  /** The services, in start order (closed in reverse order). */
  factories: ReadonlyArray<readonly [ServiceId, ServiceFactory]>;
  /** Credentials the stack gives its children (any are accepted from clients). */
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface StackStatus {
  url: string;
  pid: number;
  dataDir: string;
  instanceId: string;
  startedAt: string;
  services: Partial<Record<ServiceId, Record<string, unknown>>>;
}

export interface LocalStack {
  /** `http://127.0.0.1:<port>` — the one endpoint URL of every service. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly instanceId: string;
  readonly context: StackContext;
  service<T extends StackService>(id: ServiceId): T | undefined;
  status(): Promise<StackStatus>;
  /** Stops every service (endpoints flush their capture), then the gateway. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts a stack of the given services: claims the data directory (one stack per directory),
 * listens on 127.0.0.1, restores every service's persisted state, then records itself in
 * `<dataDir>/stack.json` so other processes find it.
 */
export async function startStackServer(options: StackServerOptions): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const region = options.region ?? DEFAULT_STACK_REGION;
  const logger = options.logger ?? silentLogger;
  const requestedPort = options.port ?? DEFAULT_STACK_PORT;
  const claim = await claimDataDirectory(dataDir);
  const startedAt = new Date().toISOString();
  const services = new Map<ServiceId, StackService>();
  let url = '';
  let accepting = false;
  const context: StackContext = {
    dataDir,
    region,
    accountId: LOCAL_ACCOUNT_ID,
    logger,
    get url() {
      return url;
    },
    sdkEnvironment: () => ({
      AWS_ENDPOINT_URL: url,
      AWS_ACCESS_KEY_ID: options.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: options.credentials.secretAccessKey,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      // boto3 and the CLI would otherwise probe the EC2 metadata service for credentials/region.
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    service: <T extends StackService>(id: ServiceId) => services.get(id) as T | undefined,
    workerCommand: options.workerCommand ?? [],
  };
  const wanted = options.services ? new Set(options.services) : undefined;
  for (const [id, create] of options.factories) {
    if (!wanted || wanted.has(id)) services.set(id, create(context));
  }

  const status = async (): Promise<StackStatus> => {
    const entries = await Promise.all([...services].map(async ([id, s]) => [id, s.status ? await s.status() : {}] as const));
    return { url, pid: process.pid, dataDir, instanceId: claim.instanceId, startedAt, services: Object.fromEntries(entries) };
  };
  const internal = async (req: IncomingMessage, res: ServerResponse, requestUrl: URL) => {
    const json = (code: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }).end(text);
    };
    if (requestUrl.pathname === '/_scones/health') return json(200, { ok: true, ready: accepting, pid: process.pid, instanceId: claim.instanceId, url, dataDir, services: [...services.keys()] });
    if (requestUrl.pathname === '/_scones/status') return json(200, await status());
    if (requestUrl.pathname === '/_scones/shutdown' && req.method === 'POST') {
      // Only a client that can read the data directory's stack.json knows the instance id.
      if (req.headers['x-scones-instance'] !== claim.instanceId) return json(403, { ok: false, message: 'x-scones-instance does not match this stack' });
      if (!options.onShutdownRequest) return json(409, { ok: false, message: 'this stack is owned by a process that does not accept remote shutdown' });
      json(202, { ok: true, pid: process.pid });
      options.onShutdownRequest();
      return;
    }
    json(404, { ok: false, message: `no internal route ${requestUrl.pathname}; known: /_scones/health, /_scones/status, POST /_scones/shutdown` });
  };

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, gatewayHandler({ services, internal, accepting: () => accepting, region, logger }));
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      // Services close in reverse start order and still reach the ones closing after them
      // through the gateway (endpoints write their last capture to S3), so it keeps routing.
      for (const service of [...services.values()].reverse()) {
        try {
          await service.close?.();
        } catch (error) {
          logger.error('service did not close cleanly', { service: service.id, error });
        }
      }
      accepting = false;
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      await claim.release();
      logger.info('stack stopped', { url, dataDir });
    })());

  try {
    await new Promise<void>((listening, failed) => {
      server.once('error', failed);
      server.listen(requestedPort, '127.0.0.1', () => {
        server.off('error', failed);
        listening();
      });
    });
  } catch (error) {
    await claim.release();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StackStartError(`port ${requestedPort} is in use on 127.0.0.1 (another scones stack, LocalStack or other program); choose another with --port`);
    throw new StackStartError(`cannot listen on 127.0.0.1:${requestedPort}: ${(error as Error).message}`);
  }
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
  try {
    for (const service of services.values()) await service.start?.();
    accepting = true;
    await claim.markRunning(url, port);
  } catch (error) {
    await close();
    throw error instanceof StackStartError ? error : new StackStartError(`the local stack could not start: ${(error as Error).message}`);
  }
  logger.info('stack ready', { url, dataDir, pid: process.pid, services: [...services.keys()] });
  return {
    url,
    port,
    dataDir,
    instanceId: claim.instanceId,
    context,
    service: context.service,
    status,
    close,
  };
}
