import { systemClock, type Clock } from './clock';
import { generateLoad, type LoadOptions, type LoadProgress, type LoadReport } from './load-generator';

/**
 * A virtual clock: `sleep` registers a timer; the driver lets all pending promise work settle,
 * then jumps to the next timer. Tests of time bounds run instantly and deterministically.
 */
class VirtualClock implements Clock {
  private time = 0;
  private timers: Array<{ at: number; resolve: () => void }> = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = { at: this.time + ms, resolve };
      this.timers.push(timer);
      signal?.addEventListener('abort', () => {
        this.timers = this.timers.filter((t) => t !== timer);
        resolve();
      });
    });
  }

  /** Runs `work` to completion, advancing time whenever nothing else can happen. */
  async run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const result = work.finally(() => (done = true));
    while (!done) {
      await new Promise((r) => setImmediate(r));
      if (done) break;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift();
      if (!next) continue;
      this.time = next.at;
      next.resolve();
    }
    return result;
  }
}

function load(clock: VirtualClock, executionMs: number | ((i: number) => number), options: Partial<LoadOptions>): { report: Promise<LoadReport>; startTimes: number[]; progress: LoadProgress[] } {
  const startTimes: number[] = [];
  const progress: LoadProgress[] = [];
  const report = clock.run(
    generateLoad({
      durationMs: 1000,
      concurrency: 4,
      clock,
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 250,
      ...options,
      async execute(index) {
        startTimes.push(clock.now());
        await clock.sleep(typeof executionMs === 'number' ? executionMs : executionMs(index));
        return index % 5 === 4 ? { ok: false, error: 'THRESHOLD_CONFIDENCE_NOT_MET' } : { ok: true };
      },
    }),
  );
  return { report, startTimes, progress };
}

describe('generateLoad', () => {
  it('starts executions at the rate for the duration, then waits for those in flight', async () => {
    const clock = new VirtualClock();
    const { report, startTimes } = load(clock, 30, { ratePerSecond: 20 });
    const r = await report;
    expect(r.started).toBe(20);
    expect(startTimes).toEqual(Array.from({ length: 20 }, (_, i) => i * 50));
    expect(r).toMatchObject({ completed: 20, succeeded: 16, failed: 4, failuresByError: { THRESHOLD_CONFIDENCE_NOT_MET: 4 }, delayedStarts: 0, interrupted: false });
    expect(r.durationMs).toBe(950 + 30);
    expect(r.latencyMs).toMatchObject({ p50: 30, p99: 30 });
    expect(r.throughput).toBeCloseTo((20 * 1000) / 980, 5);
  });

  it('holds starts back at the concurrency limit and counts them as delayed', async () => {
    const clock = new VirtualClock();
    const { report, startTimes } = load(clock, 200, { ratePerSecond: 20, concurrency: 2 });
    const r = await report;
    // Two at a time, 200 ms each: at most 2 in flight means a start only every 100 ms.
    expect(startTimes.slice(0, 4)).toEqual([0, 50, 200, 250]);
    expect(r.delayedStarts).toBeGreaterThan(0);
    expect(Math.max(...startTimes)).toBeLessThan(1000);
  });

  it('runs back to back without a rate, bounded by the duration', async () => {
    const clock = new VirtualClock();
    const { report, startTimes } = load(clock, 100, { concurrency: 3, durationMs: 500 });
    const r = await report;
    expect(r.started).toBe(15);
    expect(startTimes.filter((t) => t === 0)).toHaveLength(3);
    expect(r.durationMs).toBe(500);
  });

  it('stops after maxExecutions', async () => {
    const clock = new VirtualClock();
    const r = await load(clock, 10, { ratePerSecond: 100, maxExecutions: 7 }).report;
    expect(r.started).toBe(7);
  });

  it('reports progress while running', async () => {
    const clock = new VirtualClock();
    const { report, progress } = load(clock, 30, { ratePerSecond: 20 });
    await report;
    expect(progress.map((p) => p.elapsedMs)).toEqual([250, 500, 750]);
    expect(progress[1]).toMatchObject({ started: 10, completed: 10, inFlight: 0, recentThroughput: 20 });
    expect(progress[1].latencyMs?.p50).toBe(30);
  });

  it('counts an execution that throws as failed under its error name', async () => {
    const clock = new VirtualClock();
    const r = await clock.run(
      generateLoad({
        durationMs: 100,
        concurrency: 1,
        ratePerSecond: 10,
        clock,
        execute: async () => {
          throw Object.assign(new Error('connection refused'), { name: 'StepFunctionsError' });
        },
      }),
    );
    expect(r).toMatchObject({ started: 1, failed: 1, failuresByError: { StepFunctionsError: 1 } });
  });

  it('stops starting when the signal aborts, and says it was interrupted', async () => {
    const controller = new AbortController();
    const r = await generateLoad({
      durationMs: 60_000,
      concurrency: 2,
      ratePerSecond: 1000,
      signal: controller.signal,
      execute: async (index) => {
        if (index === 4) controller.abort();
        return { ok: true };
      },
    });
    expect(r.interrupted).toBe(true);
    expect(r.started).toBeLessThan(10);
  });

  it('rejects bounds that would not stop or make no sense', async () => {
    const execute = async () => ({ ok: true });
    await expect(generateLoad({ durationMs: 0, concurrency: 1, execute })).rejects.toThrow(/durationMs/);
    await expect(generateLoad({ durationMs: 10, concurrency: 0, execute })).rejects.toThrow(/concurrency/);
    await expect(generateLoad({ durationMs: 10, concurrency: 1, ratePerSecond: -1, execute })).rejects.toThrow(/ratePerSecond/);
  });

  it('has a system clock whose sleep ends early on abort', async () => {
    const controller = new AbortController();
    const before = systemClock.now();
    setTimeout(() => controller.abort(), 5);
    await systemClock.sleep(10_000, controller.signal);
    expect(systemClock.now() - before).toBeLessThan(5_000);
  });
});
