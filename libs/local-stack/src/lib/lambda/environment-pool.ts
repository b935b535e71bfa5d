import type { RuntimeProcess } from './runtime-process';

/**
 * The warm execution environments of one function version (its code and configuration): up to
 * `maxEnvironments` processes, each serving one invocation at a time; further invocations wait in
 * order. Environments idle for longer than `idleMs` are stopped.
 */
export class EnvironmentPool {
  private readonly idle: RuntimeProcess[] = [];
  private readonly busy = new Set<RuntimeProcess>();
  /** Slots handed out to callers that are starting an environment. */
  private starting = 0;
  private readonly waiters: Array<(lease: Lease) => void> = [];
  private retired = false;

  constructor(
    private readonly maxEnvironments: number,
    private readonly idleMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.idle.length + this.busy.size + this.starting;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /**
   * A warm environment, or the right to start one (`process` undefined), once one is free. After
   * `retire()`, callers still get slots but their environments are stopped when released.
   */
  acquire(): Promise<Lease> {
    for (;;) {
      const warm = this.idle.pop();
      if (!warm) break;
      if (warm.alive) {
        this.busy.add(warm);
        return Promise.resolve({ process: warm });
      }
    }
    if (this.size < this.maxEnvironments) {
      this.starting++;
      return Promise.resolve({ process: undefined });
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The caller started `process` on a slot from `acquire()`. */
  started(process: RuntimeProcess): void {
    this.starting--;
    this.busy.add(process);
  }

  /** The caller could not start an environment on its slot. */
  abandon(): void {
    this.starting--;
    this.handOn();
  }

  /** The invocation is over; a live environment becomes warm (or stopped, once retired). */
  release(process: RuntimeProcess): void {
    this.busy.delete(process);
    if (!process.alive || this.retired) {
      process.kill();
      this.handOn();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      this.busy.add(process);
      waiter({ process });
      return;
    }
    this.idle.push(process);
  }

  /** Stops environments idle for longer than `idleMs`; returns how many. */
  reap(): number {
    const limit = this.now() - this.idleMs;
    let stopped = 0;
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const process = this.idle[i];
      if (process.lastUsed <= limit || !process.alive) {
        this.idle.splice(i, 1);
        process.kill();
        stopped++;
      }
    }
    return stopped;
  }

  /** The function changed or was deleted: stop idle environments now, busy ones when they finish. */
  retire(): void {
    this.retired = true;
    for (const process of this.idle.splice(0)) process.kill();
  }

  /** Stops every environment (stack shutdown); waiting invocations get a closed lease. */
  async close(): Promise<void> {
    this.retire();
    for (const waiter of this.waiters.splice(0)) waiter({ process: undefined, closed: true });
    const all = [...this.busy];
    for (const process of all) process.kill();
    await Promise.all(all.map((p) => p.exited()));
  }

  get isRetired(): boolean {
    return this.retired;
  }

  private handOn(): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.starting++;
      waiter({ process: undefined });
    }
  }
}

export interface Lease {
  process: RuntimeProcess | undefined;
  /** The stack is shutting down: no environment will be started. */
  closed?: boolean;
}
