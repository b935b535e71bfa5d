import { systemClock, type Clock } from './clock';
import { summarizeLatencies, type LatencySummary } from './latency';

/** One execution started by the generator: whether it succeeded, and the error name if not. */
export interface LoadResult {
  ok: boolean;
  error?: string;
}

export interface LoadOptions {
  /** Starts execution number `index` (0, 1, ...) and resolves when it has finished. */
  execute(index: number): Promise<LoadResult>;
  /** Executions started per second (open loop). Omit for as fast as `concurrency` allows. */
  ratePerSecond?: number;
  /** Stops starting executions after this long (those in flight finish). */
  durationMs: number;
  /** Stops after this many executions. Default: rate × duration, or unbounded without a rate. */
  maxExecutions?: number;
  /** Executions in flight at most. */
  concurrency: number;
  signal?: AbortSignal;
  /** Called every `progressIntervalMs` (default 1 s) while the load runs. */
  onProgress?(progress: LoadProgress): void;
  progressIntervalMs?: number;
  clock?: Clock;
}

export interface LoadProgress {
  elapsedMs: number;
  started: number;
  completed: number;
  succeeded: number;
  failed: number;
  inFlight: number;
  /** Completions per second since the previous report. */
  recentThroughput: number;
  /** Latencies of everything completed so far. */
  latencyMs?: LatencySummary;
}

export interface LoadReport {
  started: number;
  completed: number;
  succeeded: number;
  failed: number;
  failuresByError: Record<string, number>;
  /** From the first start until the last execution finished. */
  durationMs: number;
  /** Completed executions per second over `durationMs`. */
  throughput: number;
  latencyMs?: LatencySummary;
  /** Starts that came late because `concurrency` executions were already in flight. */
  delayedStarts: number;
  /** The signal stopped the load before its bounds did. */
  interrupted: boolean;
}

/**
 * Keeps starting executions at `ratePerSecond` (or back to back) with at most `concurrency` in
 * flight, until `durationMs` has passed or `maxExecutions` were started, then waits for those in
 * flight. Latency is measured per execution from its actual start. With a rate, a start is due at
 * `index / rate` seconds; a start held back by the concurrency limit is counted in `delayedStarts`
 * (the load was more than the system could take at that concurrency).
 */
export async function generateLoad(options: LoadOptions): Promise<LoadReport> {
  const clock = options.clock ?? systemClock;
  const { durationMs, concurrency, ratePerSecond, signal } = options;
  if (!(concurrency >= 1 && Number.isInteger(concurrency))) throw new RangeError(`concurrency: expected an integer >= 1, got ${concurrency}`);
  if (!(durationMs > 0)) throw new RangeError(`durationMs: expected a duration > 0, got ${durationMs}`);
  if (ratePerSecond !== undefined && !(ratePerSecond > 0)) throw new RangeError(`ratePerSecond: expected a rate > 0, got ${ratePerSecond}`);
  const maxExecutions = options.maxExecutions ?? (ratePerSecond ? Math.ceil((ratePerSecond * durationMs) / 1000) : Number.POSITIVE_INFINITY);

  const latencies: number[] = [];
  const failuresByError: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  let started = 0;
  let succeeded = 0;
  let failed = 0;
  let delayedStarts = 0;
  const start = clock.now();
  const deadline = start + durationMs;

  const launch = (index: number) => {
    const begun = clock.now();
    const running: Promise<void> = options
      .execute(index)
      .catch((error: unknown): LoadResult => ({ ok: false, error: (error as Error)?.name ?? 'Error' }))
      .then((result) => {
        latencies.push(clock.now() - begun);
        if (result.ok) succeeded++;
        else {
          failed++;
          const name = result.error ?? 'Error';
          failuresByError[name] = (failuresByError[name] ?? 0) + 1;
        }
      })
      .finally(() => inFlight.delete(running));
    inFlight.add(running);
  };

  // Live progress until everything has finished.
  let finished = false;
  const stopTicker = new AbortController();
  const ticker = (async () => {
    if (!options.onProgress) return;
    const interval = options.progressIntervalMs ?? 1000;
    let lastCompleted = 0;
    let lastTime = start;
    while (!finished) {
      await clock.sleep(interval, stopTicker.signal);
      if (finished) return;
      const now = clock.now();
      const completed = succeeded + failed;
      options.onProgress({
        elapsedMs: now - start,
        started,
        completed,
        succeeded,
        failed,
        inFlight: inFlight.size,
        recentThroughput: now > lastTime ? ((completed - lastCompleted) * 1000) / (now - lastTime) : 0,
        latencyMs: summarizeLatencies(latencies),
      });
      lastCompleted = completed;
      lastTime = now;
    }
  })();

  while (started < maxExecutions && !signal?.aborted) {
    if (ratePerSecond) {
      const due = start + (started * 1000) / ratePerSecond;
      if (due >= deadline) break;
      await clock.sleep(due - clock.now(), signal);
      if (signal?.aborted) break;
    } else if (clock.now() >= deadline) break;
    if (inFlight.size >= concurrency) {
      const waitedFrom = clock.now();
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (ratePerSecond && clock.now() > waitedFrom) delayedStarts++;
      if (clock.now() >= deadline || signal?.aborted) break;
    }
    launch(started++);
  }
  await Promise.all(inFlight);
  finished = true;
  stopTicker.abort();
  await ticker;
  const elapsed = clock.now() - start;
  const completed = succeeded + failed;
  const latencyMs = summarizeLatencies(latencies);
  return {
    started,
    completed,
    succeeded,
    failed,
    failuresByError,
    durationMs: elapsed,
    throughput: elapsed > 0 ? (completed * 1000) / elapsed : 0,
    ...(latencyMs ? { latencyMs } : {}),
    delayedStarts,
    interrupted: signal?.aborted === true,
  };
}
