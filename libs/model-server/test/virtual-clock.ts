import type { Clock } from '../src/lib/clock';

/**
 * A clock that moves only when told to: `advance(ms)` fires the timers due within `ms`, in order,
 * letting the code they wake run before the next one fires. Nothing depends on the machine's speed.
 */
export class VirtualClock implements Clock {
  private time = 0;
  private timers: Array<{ at: number; seq: number; resolve: () => void }> = [];
  private seq = 0;

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = { at: this.time + Math.max(0, ms), seq: this.seq++, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((t) => t !== timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Timers waiting now. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way (and those they start). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.time = next.at;
      next.resolve();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** Lets promise continuations and immediate callbacks run (a few turns of the event loop). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Polls `probe` until it returns a value, failing with a message naming `what` after a generous deadline. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    const waited = Date.now() - started;
    if (waited > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    // Spin on the event loop briefly (most conditions come true within a few turns), then poll.
    await new Promise((resolve) => (waited < 20 ? setImmediate(resolve) : setTimeout(resolve, 5)));
  }
}
