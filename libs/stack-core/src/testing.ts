// Test helpers (not part of the production API): an S3 server for any library's tests — the
// stack's own S3 service behind its gateway, on a free port over a fresh directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createS3Service, type S3Service } from './lib/s3/s3-service';
import type { ServiceId } from './lib/gateway/routing';
import type { Logger } from './lib/json-logger';
import { startStackServer, type LocalStack } from './lib/stack';

/** Credentials test clients may use (any are accepted). */
export const TEST_CREDENTIALS = { accessKeyId: 'scones-test', secretAccessKey: 'scones-test' } as const;

export interface LocalS3Options {
  /** Where objects are kept (default: a new temporary directory, removed by `stop()`). */
  directory?: string;
  /** Buckets created on start. Default `["scones"]`. */
  buckets?: string[];
}

export interface LocalS3 {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  directory: string;
  buckets: string[];
  /** A local target for @scones/local-cloud's client factories (`createS3Client(s3.target)`). */
  target: { kind: 'local'; s3Endpoint: string; region: string };
  stack: LocalStack;
  /** Stops the server; removes the directory if it was a temporary one. Safe to call twice. */
  stop(): Promise<void>;
}

/** An S3 server (the stack's S3 service alone) on 127.0.0.1 with the buckets created. */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const temporary = options.directory === undefined;
  const directory = options.directory ? resolve(options.directory) : await mkdtemp(join(tmpdir(), 'scones-s3-'));
  const stack = await startStackServer({ dataDir: directory, port: 0, factories: [['s3', createS3Service]], credentials: TEST_CREDENTIALS });
  const buckets = options.buckets ?? ['scones'];
  const s3 = stack.service<S3Service>('s3') as S3Service;
  for (const bucket of buckets) await s3.createBucket(bucket);
  let stopped: Promise<void> | undefined;
  return {
    endpoint: stack.url,
    port: stack.port,
    directory,
    buckets,
    target: { kind: 'local', s3Endpoint: stack.url, region: 'us-east-1' },
    stack,
    stop: () =>
      (stopped ??= (async () => {
        await stack.close();
        if (temporary) await rm(directory, { recursive: true, force: true });
      })()),
  };
}

export interface TestStack extends LocalStack {
  /** Closes the stack and removes its data directory (unless one was given). */
  dispose(): Promise<void>;
}

/**
 * A stack of this core's own services (S3) on a free port over a fresh temporary data directory —
 * what the S3 service's tests use. @scones/local-stack/testing has the whole stack.
 */
export async function startTestStack(options: { dataDir?: string; logger?: Logger; services?: readonly ServiceId[] } = {}): Promise<TestStack> {
  const unknown = (options.services ?? []).filter((id) => id !== 's3');
  if (unknown.length) throw new Error(`@scones/stack-core/testing serves s3 only; for ${unknown.join(', ')} use @scones/local-stack/testing`);
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'scones-stack-core-')));
  const stack = await startStackServer({ dataDir, port: 0, factories: [['s3', createS3Service]], credentials: TEST_CREDENTIALS, ...(options.logger ? { logger: options.logger } : {}) });
  return Object.assign(stack, {
    async dispose() {
      await stack.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  });
}
