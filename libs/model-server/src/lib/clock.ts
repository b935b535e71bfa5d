/**
 * Time, injectable so tests run on a virtual clock (the shape of libs/workflow's Clock). The
 * system clock's timers never keep a process alive on their own: whoever waits on a sleep is kept
 * alive by what it serves (sockets, a worker, a pending request).
 */
export interface Clock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Resolves after `ms`, or at once when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms)).unref();
      signal?.addEventListener('abort', done, { once: true });
    }),
};
