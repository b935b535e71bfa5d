import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { FrameDecoder, encodeFrame, type Frame } from './runtime-protocol';

/** How to start one execution environment. */
export interface RuntimeLaunch {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
  /** The environment's CloudWatch log stream (`2026/11/23/[$LATEST]<hex>`). */
  logStreamName: string;
}

export interface InvokeRequest {
  requestId: string;
  payload: Buffer;
  invokedArn: string;
  deadlineMs: number;
  clientContext?: unknown;
}

/** How an invocation (or the start of an environment) ended. */
export type RuntimeOutcome =
  /** The handler returned: the marshalled result. */
  | { kind: 'result'; payload: Buffer; contentType: string; memoryMb: number }
  /** The handler (or the runtime on its behalf) failed: AWS's error document. `fatal`: the process is going away. */
  | { kind: 'error'; payload: Buffer; memoryMb: number; fatal: boolean }
  /** Loading the function failed (Runtime.ImportModuleError, …): AWS's error document. */
  | { kind: 'init-error'; payload: Buffer; initMs: number }
  | { kind: 'timeout' }
  /** The process ended without answering (sys.exit, process.exit, crash, killed). */
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null; stderrTail: string };

/**
 * One warm Lambda execution environment: a worker process (Python bootstrap or Node.js runtime
 * worker) that loads the function once and then serves one invocation at a time over fd 3. What the
 * function prints reaches `logSink`, which the caller points at the current invocation's log.
 */
export class RuntimeProcess {
  /** Where output goes now (the current invocation's log, or the init log). */
  logSink: (text: string) => void = () => undefined;
  readonly startedAt = Date.now();
  readonly logStreamName: string;
  lastUsed = Date.now();
  private readonly child: ChildProcess;
  private readonly channel: Socket;
  private readonly decoder = new FrameDecoder();
  private pending: ((outcome: RuntimeOutcome) => void) | undefined;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private stderrTail = '';
  /** Why the process could not be started at all (ENOENT…), when that happened. */
  spawnError: string | undefined;
  private readonly exitListeners: Array<() => void> = [];
  private killed = false;
  private channelClosed = false;

  constructor(launch: RuntimeLaunch) {
    this.logStreamName = launch.logStreamName;
    this.child = spawn(launch.command, [...launch.args], { cwd: launch.cwd, env: launch.env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    this.channel = this.child.stdio[3] as Socket;
    // Output written to the real stdout/stderr (subprocesses, native code) still belongs to the
    // function's log; the runtimes send their own writes as frames, in order with the results.
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => this.logSink(text));
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-2000);
      this.logSink(text);
    });
    this.channel.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.decoder.push(chunk);
      } catch (error) {
        this.stderrTail += `\n${(error as Error).message}`;
        this.kill();
        return;
      }
      for (const frame of frames) this.onFrame(frame);
    });
    this.channel.on('error', () => undefined);
    this.child.on('error', (error) => {
      this.spawnError = `cannot start ${launch.command}: ${error.message}`;
      this.onExit(null, null);
    });
    this.channel.once('close', () => (this.channelClosed = true));
    // 'exit' can come before the last frames are read (an init error, then exit): wait briefly
    // for the channel to drain before deciding the process answered nothing.
    this.child.on('exit', (code, signal) => {
      if (this.channelClosed) return this.onExit(code, signal);
      const timer = setTimeout(() => this.onExit(code, signal), 500);
      this.channel.once('close', () => {
        clearTimeout(timer);
        this.onExit(code, signal);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Running and not being stopped. */
  get alive(): boolean {
    return this.exitInfo === undefined && !this.killed;
  }

  /** Waits until the function is loaded: `ready`, or what went wrong. */
  ready(timeoutMs: number): Promise<{ kind: 'ready'; initMs: number } | Exclude<RuntimeOutcome, { kind: 'result' | 'error' }>> {
    return this.await(timeoutMs) as Promise<{ kind: 'ready'; initMs: number } | Exclude<RuntimeOutcome, { kind: 'result' | 'error' }>>;
  }

  /** Runs one invocation; on timeout the process is killed, as Lambda ends a timed-out environment. */
  invoke(request: InvokeRequest, timeoutMs: number): Promise<RuntimeOutcome> {
    this.lastUsed = Date.now();
    const answer = this.await(timeoutMs) as Promise<RuntimeOutcome>;
    this.channel.write(encodeFrame({ t: 'invoke', id: request.requestId, deadlineMs: request.deadlineMs, arn: request.invokedArn, clientContext: request.clientContext ?? null }, request.payload));
    return answer.finally(() => (this.lastUsed = Date.now()));
  }

  kill(): void {
    this.killed = true;
    if (this.exitInfo === undefined) this.child.kill('SIGKILL');
  }

  /** Resolves once the process is gone. */
  exited(): Promise<void> {
    if (this.exitInfo !== undefined) return Promise.resolve();
    return new Promise((done) => this.exitListeners.push(done));
  }

  private await(timeoutMs: number): Promise<RuntimeOutcome | { kind: 'ready'; initMs: number }> {
    if (this.exitInfo) return Promise.resolve({ kind: 'exit', ...this.exitInfo, stderrTail: this.stderrTail });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.kill();
        resolve({ kind: 'timeout' });
      }, timeoutMs);
      this.pending = (outcome) => {
        clearTimeout(timer);
        this.pending = undefined;
        resolve(outcome);
      };
    });
  }

  private onFrame({ header, body }: Frame): void {
    const memoryMb = typeof header.memMb === 'number' ? header.memMb : 0;
    switch (header.t) {
      case 'log':
        this.logSink(body.toString('utf8'));
        return;
      case 'ready':
        (this.pending as ((o: unknown) => void) | undefined)?.({ kind: 'ready', initMs: Number(header.initMs) || 0 });
        return;
      case 'initError':
        this.pending?.({ kind: 'init-error', payload: body, initMs: Number(header.initMs) || 0 });
        return;
      case 'result':
        this.pending?.({ kind: 'result', payload: body, contentType: String(header.ct ?? 'application/json'), memoryMb });
        return;
      case 'error':
        this.pending?.({ kind: 'error', payload: body, memoryMb, fatal: header.exit === true });
        return;
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exitInfo) return;
    this.exitInfo = { code, signal };
    this.pending?.({ kind: 'exit', code, signal, stderrTail: this.stderrTail });
    for (const listener of this.exitListeners.splice(0)) listener();
  }
}
