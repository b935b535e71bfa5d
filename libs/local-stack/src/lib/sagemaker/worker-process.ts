import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { StackContext } from '@scones/stack-core';

/**
 * The parent side of a stack worker (an endpoint's model server, a training job): a child process
 * running `<stack.workerCommand> <kind>` with an IPC channel. The child says `hello` once it
 * listens; the parent answers with its configuration. Only this object ever signals the child —
 * it is the process this stack started, never a pid read from a file.
 */
export interface WorkerProcessOptions<Message> {
  stack: StackContext;
  kind: string;
  /** Sent as `{ type: 'start', config }` when the child is ready for it. */
  config: unknown;
  /** Extra environment (the stack's SDK environment is always given). */
  env?: Record<string, string>;
  onMessage(message: Message): void;
  /** Each line the child writes on stdout or stderr (its JSON log lines). */
  onLine?(line: string): void;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Environment variables of this process a worker must not inherit: they would point its SDKs elsewhere. */
const FOREIGN_AWS = /^AWS_(ENDPOINT_URL.*|PROFILE|DEFAULT_PROFILE|SESSION_TOKEN|CONFIG_FILE|SHARED_CREDENTIALS_FILE|ROLE_ARN|WEB_IDENTITY_TOKEN_FILE|CONTAINER_.*)$/;

export class WorkerProcess<Message extends { type: string }> {
  readonly child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<WorkerExit>;
  private exit?: WorkerExit;

  constructor(options: WorkerProcessOptions<Message>) {
    const [command, ...args] = options.stack.workerCommand;
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!FOREIGN_AWS.test(key)) env[key] = value;
    Object.assign(env, options.stack.sdkEnvironment(), options.env);
    this.child = spawn(command, [...args, options.kind], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env, serialization: 'json' });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      // spawn failed (command not found): 'exit' may never come.
      this.child.once('error', (error) => {
        options.onLine?.(JSON.stringify({ level: 'error', message: 'worker process could not start', error: error.message }));
        if (this.child.exitCode === null && this.child.pid === undefined) {
          this.exit = { code: 127, signal: null };
          resolve(this.exit);
        }
      });
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => options.onLine?.(line));
    }
    this.child.on('message', (message: Message) => {
      if (message?.type === 'hello') this.send({ type: 'start', config: options.config });
      else options.onMessage(message);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  send(message: { type: string; [key: string]: unknown }): void {
    if (this.child.connected) this.child.send(message, (error) => void error);
  }

  /**
   * Asks the worker to stop (`{ type: 'stop' }`: finish requests, flush capture), then kills it
   * after `graceMs` if it is still running.
   */
  async stop(graceMs: number): Promise<WorkerExit> {
    if (this.exit) return this.exit;
    this.send({ type: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    const outcome = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') this.kill();
    return this.exited;
  }

  /** SIGKILL, for a worker that does not stop when asked. */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
