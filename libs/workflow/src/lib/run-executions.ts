import type { ExecutionOutcome, WorkflowExecutor } from './execution';

export interface RunExecutionsOptions {
  /** Executions in flight at most. */
  concurrency: number;
  signal?: AbortSignal;
  /** Called as each execution ends (in completion order), e.g. to print it. */
  onOutcome?(outcome: ExecutionOutcome, index: number): void;
}

/**
 * Runs one execution per input, at most `concurrency` at a time, and returns the outcomes in
 * input order. A failed *execution* is an outcome; an error starting or following one (an AWS
 * API error) stops further starts and is thrown once those in flight have ended.
 */
export async function runExecutions(executor: WorkflowExecutor, inputs: readonly unknown[], options: RunExecutionsOptions): Promise<ExecutionOutcome[]> {
  if (!(Number.isInteger(options.concurrency) && options.concurrency >= 1)) throw new RangeError(`concurrency: expected an integer >= 1, got ${options.concurrency}`);
  const outcomes: ExecutionOutcome[] = new Array(inputs.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && !options.signal?.aborted && next < inputs.length) {
      const index = next++;
      try {
        outcomes[index] = await executor.execute(inputs[index], { signal: options.signal });
      } catch (error) {
        failure ??= { error };
        return;
      }
      options.onOutcome?.(outcomes[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, inputs.length) }, worker));
  if (failure) throw failure.error;
  options.signal?.throwIfAborted();
  return outcomes;
}
