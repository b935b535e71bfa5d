import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_STACK_REGION, STACK_CREDENTIALS, findRunningStack, processExists, readInstanceFile, StackInstanceError, StackStartError, type LocalStack, type RunningStackInstance } from '@scones/stack-core';
import { startStack, type LocalStackOptions } from './stack';

/** A stack a command talks to: one already running, or one it started for its own duration. */
export interface StackConnection {
  readonly url: string;
  readonly region: string;
  readonly dataDir: string;
  /** True when this process started the stack (it stops when {@link StackConnection.close} is called). */
  readonly owned: boolean;
  /** The in-process stack, when owned. */
  readonly stack?: LocalStack;
  /** Stops the stack if this process started it; otherwise does nothing. */
  close(): Promise<void>;
}

export interface ConnectOptions extends Pick<LocalStackOptions, 'workerCommand' | 'logger' | 'region'> {
  dataDir: string;
  /** Port for a stack started here. Default 0 (a free port): a command's own stack must not take 4566. */
  port?: number;
  /** How long to wait for a stack another process is starting on the same data directory. Default 60 s. */
  waitMs?: number;
}

/**
 * The running stack of `dataDir`, or a new one in this process for as long as the caller needs
 * it — so every command works with or without `scones up`.
 */
export async function connectOrStartStack(options: ConnectOptions): Promise<StackConnection> {
  const dataDir = resolve(options.dataDir);
  const region = options.region ?? DEFAULT_STACK_REGION;
  const deadline = Date.now() + (options.waitMs ?? 60_000);
  for (;;) {
    const running = await findRunningStack(dataDir);
    if (running) return { url: running.url, region, dataDir, owned: false, close: async () => undefined };
    try {
      const stack = await startStack({ dataDir, port: options.port ?? 0, region, workerCommand: options.workerCommand, logger: options.logger });
      return { url: stack.url, region, dataDir, owned: true, stack, close: () => stack.close() };
    } catch (error) {
      // Another process is starting a stack on this data directory: use it once it is up.
      if (!(error instanceof StackInstanceError) || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Asks the stack serving `dataDir` to stop (the request carries the instance id only a reader of
 * the data directory knows; no pid read from a file is ever signalled) and waits until it is gone.
 * Returns what was stopped, or undefined when no stack runs there.
 */
export async function stopRunningStack(dataDir: string, { timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<RunningStackInstance | undefined> {
  const running = await findRunningStack(dataDir);
  if (!running) return undefined;
  const answer = await fetch(new URL('/_scones/shutdown', running.url), { method: 'POST', headers: { 'x-scones-instance': running.instanceId }, signal: AbortSignal.timeout(5_000) });
  if (answer.status !== 202) {
    const body = await answer.text().catch(() => '');
    throw new StackInstanceError(`the stack at ${running.url} (pid ${running.pid}) refused to stop: HTTP ${answer.status} ${body}`);
  }
  const deadline = Date.now() + timeoutMs;
  while (processExists(running.pid) && (await readInstanceFile(dataDir))?.instanceId === running.instanceId) {
    if (Date.now() > deadline) throw new StackInstanceError(`the stack at ${running.url} (pid ${running.pid}) did not stop within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return running;
}

export interface DetachedStackOptions {
  dataDir: string;
  /** The command that runs a stack in the foreground, e.g. `[node, scones.js, 'up', '--port', '4566']`. */
  command: readonly string[];
  /** Default `<dataDir>/logs/stack.log`. */
  logFile?: string;
  /** Default 60 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/**
 * Starts `command` as a detached process writing to a log file, waits until the stack it starts
 * serves `dataDir` (its instance file names that very process), and returns it. If the process
 * exits first, the error quotes the end of its log.
 */
export async function startDetachedStack(options: DetachedStackOptions): Promise<RunningStackInstance & { logFile: string }> {
  const dataDir = resolve(options.dataDir);
  const logFile = options.logFile ?? join(dataDir, 'logs', 'stack.log');
  await mkdir(join(logFile, '..'), { recursive: true });
  const log = openSync(logFile, 'a');
  const [executable, ...args] = options.command;
  const child = spawn(executable, args, { detached: true, stdio: ['ignore', log, log], env: options.env ?? process.env });
  closeSync(log);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once('exit', (code, signal) => (exit = { code, signal }));
  const failure = (why: string) => {
    let tail = '';
    try {
      tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
    } catch {
      /* no log */
    }
    return new StackStartError(`the detached stack ${why}${tail ? `; the end of ${logFile}:\n${tail}` : ` (no output in ${logFile})`}`);
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const running = await findRunningStack(dataDir);
    if (running && running.pid === child.pid) {
      child.unref();
      return { ...running, logFile };
    }
    if (exit) throw failure(`exited (${exit.signal ?? `code ${exit.code}`}) before serving`);
    if (options.signal?.aborted || Date.now() > deadline) {
      child.kill('SIGTERM');
      options.signal?.throwIfAborted();
      throw failure(`did not start serving within ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s and was stopped`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type EnvironmentFormat = 'shell' | 'dotenv' | 'json';

/** What a shell, an SDK or the AWS CLI needs to use the stack at `url`. */
export function stackEnvironment(url: string, region = DEFAULT_STACK_REGION): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: url,
    AWS_ACCESS_KEY_ID: STACK_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: STACK_CREDENTIALS.secretAccessKey,
    AWS_REGION: region,
    // boto3 and the AWS CLI read this one rather than AWS_REGION.
    AWS_DEFAULT_REGION: region,
  };
}

/** `export K='v'` lines (shell), `K=v` lines (dotenv) or a JSON object. */
export function formatEnvironment(env: Record<string, string>, format: EnvironmentFormat): string {
  if (format === 'json') return JSON.stringify(env, null, 2);
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  return Object.entries(env)
    .map(([k, v]) => (format === 'shell' ? `export ${k}=${quote(v)}` : `${k}=${/[\s#"'$]/.test(v) ? JSON.stringify(v) : v}`))
    .join('\n');
}

