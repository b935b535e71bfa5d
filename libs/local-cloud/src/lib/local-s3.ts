import { createServer } from 'node:http';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import S3rver from 's3rver';
import { LocalS3StartError } from '../errors';
import { makeS3rverConformant } from './s3rver-conformance';
import { DEFAULT_LOCAL_BUCKET, LOCAL_REGION, type Target } from './target';

export interface LocalS3Options {
  /** Where objects are stored. Default `.scones/s3` in the working directory. */
  directory?: string;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Buckets created on start (idempotent). Default `["scones"]`. */
  buckets?: string[];
}

export interface LocalS3 {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  directory: string;
  buckets: string[];
  /** A local target pointing at this server. */
  target: Extract<Target, { kind: 'local' }>;
  /** Stops the server (open connections included); safe to call twice. */
  stop(): Promise<void>;
}

export const DEFAULT_LOCAL_S3_DIRECTORY = '.scones/s3';

/** Starts an S3-protocol server (s3rver) on loopback and creates the buckets. */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const directory = resolve(options.directory ?? DEFAULT_LOCAL_S3_DIRECTORY);
  const buckets = options.buckets ?? [DEFAULT_LOCAL_BUCKET];
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    throw new LocalS3StartError(`embedded S3: cannot create data directory ${directory}: ${(error as Error).message}`);
  }
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    // Any SDK with any credentials may talk to the local stack; it is bound to loopback only.
    allowMismatchedSignatures: true,
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  makeS3rverConformant(server);
  // s3rver's own run() never settles when listen fails (EADDRINUSE is an event, not a callback
  // error), so its Koa handler is served from our own http.Server.
  await server.configureBuckets();
  const httpServer = createServer(server.callback());
  const port = options.port ?? 0;
  try {
    await new Promise<void>((resolveListen, rejectListen) => {
      httpServer.once('error', rejectListen);
      httpServer.listen(port, '127.0.0.1', () => {
        httpServer.off('error', rejectListen);
        resolveListen();
      });
    });
  } catch (error) {
    throw new LocalS3StartError(`embedded S3: cannot listen on 127.0.0.1:${port}: ${(error as Error).message}`);
  }
  const address = httpServer.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port: address.port,
    directory,
    buckets,
    target: { kind: 'local', s3Endpoint: endpoint, region: LOCAL_REGION },
    stop() {
      stopped ??= new Promise<void>((resolveClose) => {
        httpServer.close(() => resolveClose());
        httpServer.closeAllConnections();
      });
      return stopped;
    },
  };
}
