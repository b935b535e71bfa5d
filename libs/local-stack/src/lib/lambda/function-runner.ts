import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@scones/stack-core';
import { AwsError } from '@scones/stack-core';
import { EnvironmentPool } from './environment-pool';
import { LATEST } from './function-name';
import { runtimeFamily, type FunctionRecord } from './function-config';
import { InvocationLog } from './invocation-log';
import { RuntimeProcess, type RuntimeLaunch, type RuntimeOutcome } from './runtime-process';

/** Lambda's limit on a synchronous response (6 MB). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
/** Lambda gives a function's init phase 10 s (or its timeout, when longer). */
const INIT_TIMEOUT_MS = 10_000;

export interface FunctionRunnerOptions {
  /** Execution environments per function (concurrent invocations beyond this wait). */
  maxEnvironmentsPerFunction: number;
  /** A warm environment unused for this long is stopped. */
  idleMs: number;
  /** The python interpreter for python3.x functions (resolved once). */
  python(): Promise<string>;
  /** `<workerCommand> lambda-nodejs` starts a Node.js environment. */
  workerCommand: readonly string[];
  /** Where the Python bootstrap is written. */
  pythonBootstrap: string;
  /**
   * Where each execution environment gets its own directory that plays the part of `/tmp`: on
   * Lambda every environment has a private `/tmp`, and the course's serialize function writes
   * `/tmp/image.png`, so concurrent environments sharing the machine's `/tmp` would swap images.
   */
  scratchDirectory: string;
  /** The stack's data directory (absolute): never redirected, even when it is under /tmp. */
  stackDataDirectory: string;
  /** The stack's SDK environment (endpoint, credentials, region). */
  sdkEnvironment(): Record<string, string>;
  /** `node_modules` that play the part of the runtime-provided AWS SDK for Node.js functions. */
  nodeModules?: string;
  logger: Logger;
}

export interface InvocationRequest {
  requestId: string;
  payload: Buffer;
  invokedArn: string;
  clientContext?: unknown;
}

/** What an invocation returned, as the Invoke API reports it. */
export interface InvocationOutcome {
  payload: Buffer;
  /** `Unhandled` when the function failed (its error document is the payload). */
  functionError?: 'Unhandled';
  /** The error document's errorType, when it failed (for logs and status). */
  errorType?: string;
  log: InvocationLog;
  /** The log stream of the environment that ran it. */
  logStreamName: string;
}

interface FunctionEnvironments {
  revisionId: string;
  codeSha256: string;
  pool: EnvironmentPool;
}

/**
 * Runs invocations in warm execution environments, one pool per function (replaced when its code
 * or configuration changes), and turns every way an invocation can end into the payload and
 * FunctionError Lambda answers with.
 */
export class FunctionRunner {
  private readonly current = new Map<string, FunctionEnvironments>();
  /** Pools of earlier revisions whose environments still finish invocations. */
  private readonly draining = new Set<FunctionEnvironments>();
  private readonly reaper: NodeJS.Timeout;
  private closed = false;
  /** Each environment's /tmp is removed when its process ends; close() waits for that. */
  private readonly scratchRemovals = new Set<Promise<void>>();
  invocations = 0;

  constructor(private readonly options: FunctionRunnerOptions) {
    this.reaper = setInterval(() => this.reap(), Math.max(50, Math.min(30_000, Math.floor(options.idleMs / 2))));
    this.reaper.unref();
  }

  /** Runs one invocation of `record`, whose package is extracted at `root`. */
  async run(record: FunctionRecord, root: string, request: InvocationRequest): Promise<InvocationOutcome> {
    if (this.closed) throw new AwsError('ServiceException', 'the local stack is shutting down', 500);
    this.invocations++;
    const environments = this.environmentsOf(record);
    const log = new InvocationLog(request.requestId, record.logFormat);
    const lease = await environments.pool.acquire();
    if (lease.closed) throw new AwsError('ServiceException', 'the local stack is shutting down', 500);
    let process = lease.process;
    let initMs: number | undefined;
    if (!process) {
      const launch = await this.launch(record, root);
      const spawned = performance.now();
      process = new RuntimeProcess(launch);
      const scratch = launch.env.SCONES_LAMBDA_TMP;
      const removal = process.exited().then(() => rm(scratch, { recursive: true, force: true }).catch(() => undefined));
      this.scratchRemovals.add(removal);
      void removal.then(() => this.scratchRemovals.delete(removal));
      process.logSink = (text) => log.append(text);
      const ready = await process.ready(Math.max(INIT_TIMEOUT_MS, record.timeout * 1000));
      if (ready.kind !== 'ready') {
        environments.pool.abandon();
        process.kill();
        return this.failedInit(record, request, log, ready, process);
      }
      // Lambda's Init Duration covers starting the runtime too, not only loading the function.
      initMs = performance.now() - spawned;
      environments.pool.started(process);
    }
    process.logSink = (text) => log.append(text);
    log.start();
    const started = performance.now();
    const outcome = await process.invoke(
      { requestId: request.requestId, payload: request.payload, invokedArn: request.invokedArn, deadlineMs: Date.now() + record.timeout * 1000, clientContext: request.clientContext },
      record.timeout * 1000,
    );
    const durationMs = performance.now() - started;
    process.logSink = () => undefined;
    // An environment that timed out, crashed or hit an uncaught error does not serve again.
    if (outcome.kind !== 'result' && !(outcome.kind === 'error' && !outcome.fatal)) process.kill();
    environments.pool.release(process);
    return this.settle(record, request, log, outcome, durationMs, initMs, process.logStreamName);
  }

  /** The function was updated or deleted: its environments stop once idle. */
  retire(name: string): void {
    const environments = this.current.get(name);
    if (!environments) return;
    this.current.delete(name);
    environments.pool.retire();
    if (environments.pool.size > 0) this.draining.add(environments);
  }

  /** Code packages that live environments still run from (not to be removed). */
  codeInUse(): Set<string> {
    const inUse = new Set<string>();
    for (const environments of [...this.current.values(), ...this.draining]) if (environments.pool.size > 0) inUse.add(environments.codeSha256);
    return inUse;
  }

  status(): { environments: number; idle: number; queued: number; invocations: number } {
    let environments = 0;
    let idle = 0;
    let queued = 0;
    for (const e of [...this.current.values(), ...this.draining]) {
      environments += e.pool.size;
      idle += e.pool.idleCount;
      queued += e.pool.queued;
    }
    return { environments, idle, queued, invocations: this.invocations };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reaper);
    const all = [...this.current.values(), ...this.draining];
    this.current.clear();
    this.draining.clear();
    await Promise.all(all.map((e) => e.pool.close()));
    await Promise.all(this.scratchRemovals);
  }

  private reap(): void {
    for (const environments of this.current.values()) environments.pool.reap();
    for (const environments of this.draining) if (environments.pool.size === 0) this.draining.delete(environments);
  }

  private environmentsOf(record: FunctionRecord): FunctionEnvironments {
    const existing = this.current.get(record.name);
    if (existing && existing.revisionId === record.revisionId) return existing;
    if (existing) this.retire(record.name);
    const created = { revisionId: record.revisionId, codeSha256: record.codeSha256, pool: new EnvironmentPool(this.options.maxEnvironmentsPerFunction, this.options.idleMs) };
    this.current.set(record.name, created);
    return created;
  }

  private async launch(record: FunctionRecord, root: string): Promise<RuntimeLaunch> {
    const family = runtimeFamily(record.runtime);
    await mkdir(this.options.scratchDirectory, { recursive: true });
    const scratch = await mkdtemp(join(this.options.scratchDirectory, 'env-'));
    // The function's own variables cannot move it: TMPDIR and the redirect of /tmp are the runtime's.
    const env: Record<string, string> = {
      ...this.environmentVariables(record, root, family),
      TMPDIR: scratch,
      SCONES_LAMBDA_TMP: scratch,
      SCONES_STACK_DATA_DIR: this.options.stackDataDirectory,
    };
    const logStreamName = env.AWS_LAMBDA_LOG_STREAM_NAME;
    if (family === 'python') return { command: await this.options.python(), args: [this.options.pythonBootstrap], env, cwd: root, logStreamName };
    const [command, ...args] = this.options.workerCommand;
    return { command, args: [...args, 'lambda-nodejs'], env, cwd: root, logStreamName };
  }

  /** Lambda's environment: its reserved variables, the stack's SDK settings, then the function's own. */
  private environmentVariables(record: FunctionRecord, root: string, family: 'python' | 'nodejs'): Record<string, string> {
    const now = new Date();
    const day = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${String(now.getUTCDate()).padStart(2, '0')}`;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      ...this.options.sdkEnvironment(),
      AWS_EXECUTION_ENV: `AWS_Lambda_${record.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: record.name,
      AWS_LAMBDA_FUNCTION_VERSION: LATEST,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(record.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: record.logGroup,
      AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[${LATEST}]${randomBytes(16).toString('hex')}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      LAMBDA_TASK_ROOT: root,
      LAMBDA_RUNTIME_DIR: family === 'python' ? join(this.options.pythonBootstrap, '..') : root,
      _HANDLER: record.handler,
    };
    if (record.logFormat === 'JSON') {
      env.AWS_LAMBDA_LOG_FORMAT = 'JSON';
      if (record.applicationLogLevel) env.AWS_LAMBDA_LOG_LEVEL = record.applicationLogLevel;
    }
    if (family === 'python') {
      // The package directory is shared and, on Lambda, read-only: no __pycache__ in it. (A
      // PYTHONPYCACHEPREFIX would also move boto3's and the standard library's byte code there,
      // recompiling all of it on every new stack.)
      env.PYTHONDONTWRITEBYTECODE = '1';
    } else if (this.options.nodeModules && existsSync(this.options.nodeModules)) {
      env.NODE_PATH = this.options.nodeModules;
    }
    if (process.env.SCONES_ROOT) env.SCONES_ROOT = process.env.SCONES_ROOT;
    // Functions declared nodejs22.x may run on an older local Node.js: keep the SDK's notice about
    // that (an artifact of this machine, not of the function) out of their logs when the stack does.
    if (process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED) env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    return { ...env, ...record.environment };
  }

  private failedInit(record: FunctionRecord, request: InvocationRequest, log: InvocationLog, ready: Exclude<RuntimeOutcome, { kind: 'result' | 'error' }>, process: RuntimeProcess): InvocationOutcome {
    const spawnError = process.spawnError;
    if (spawnError) {
      const runtime = runtimeFamily(record.runtime) === 'python' ? 'python3 (set SCONES_LAMBDA_PYTHON to choose another interpreter)' : 'the Node.js worker command';
      throw new AwsError('InvalidRuntimeException', `${record.name}: the local stack cannot start ${runtime} for ${record.runtime}: ${spawnError}`, 502);
    }
    if (ready.kind === 'init-error') {
      const errorType = errorTypeOf(ready.payload);
      log.initReport(ready.initMs, errorType);
      log.start();
      log.end({ durationMs: ready.initMs, memorySizeMb: record.memorySize, maxMemoryUsedMb: 0, status: 'error', errorType });
      return { payload: ready.payload, functionError: 'Unhandled', errorType, log, logStreamName: process.logStreamName };
    }
    log.start();
    return this.settle(record, request, log, ready, 0, undefined, process.logStreamName);
  }

  private settle(record: FunctionRecord, request: InvocationRequest, log: InvocationLog, outcome: RuntimeOutcome, durationMs: number, initMs: number | undefined, logStreamName: string): InvocationOutcome {
    const base = { memorySizeMb: record.memorySize, initDurationMs: initMs };
    const failure = (errorType: string, errorMessage: string, status?: 'timeout' | 'error', maxMemoryUsedMb = 0): InvocationOutcome => {
      log.end({ ...base, durationMs, maxMemoryUsedMb, status: status ?? 'error', errorType });
      return { payload: Buffer.from(JSON.stringify({ errorType, errorMessage })), functionError: 'Unhandled', errorType, log, logStreamName };
    };
    switch (outcome.kind) {
      case 'result':
        if (outcome.payload.length > MAX_RESPONSE_BYTES) {
          return failure('Function.ResponseSizeTooLarge', `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`, 'error', outcome.memoryMb);
        }
        log.end({ ...base, durationMs, maxMemoryUsedMb: outcome.memoryMb });
        return { payload: outcome.payload, log, logStreamName };
      case 'error': {
        const errorType = errorTypeOf(outcome.payload);
        log.end({ ...base, durationMs, maxMemoryUsedMb: outcome.memoryMb, ...(outcome.fatal ? { status: 'error' as const, errorType } : {}) });
        return { payload: outcome.payload, functionError: 'Unhandled', errorType, log, logStreamName };
      }
      case 'timeout':
        log.timedOut(record.timeout);
        return failure('Sandbox.Timedout', `RequestId: ${request.requestId} Error: Task timed out after ${record.timeout.toFixed(2)} seconds`, 'timeout');
      case 'exit': {
        const reason = outcome.signal ? `signal: ${outcome.signal === 'SIGKILL' ? 'killed' : outcome.signal}` : `exit status ${outcome.code}`;
        log.append(`RequestId: ${request.requestId} Error: Runtime exited with error: ${reason}\nRuntime.ExitError\n`);
        return failure('Runtime.ExitError', `RequestId: ${request.requestId} Error: Runtime exited with error: ${reason}`);
      }
      case 'init-error': {
        const errorType = errorTypeOf(outcome.payload);
        log.end({ ...base, durationMs, maxMemoryUsedMb: 0, status: 'error', errorType });
        return { payload: outcome.payload, functionError: 'Unhandled', errorType, log, logStreamName };
      }
    }
  }
}

function errorTypeOf(payload: Buffer): string | undefined {
  try {
    const value = JSON.parse(payload.toString('utf8')) as { errorType?: unknown };
    return typeof value.errorType === 'string' ? value.errorType : undefined;
  } catch {
    return undefined;
  }
}
