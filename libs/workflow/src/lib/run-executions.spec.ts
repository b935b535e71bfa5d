import type { ExecutionOutcome, WorkflowExecutor } from './execution';
import { runExecutions } from './run-executions';

/** An executor whose executions take `delays[input]` ms and record how many ran at once. */
function fakeExecutor(delays: Record<string, number>, failOn?: string): WorkflowExecutor & { peak: number } {
  let running = 0;
  const executor = {
    peak: 0,
    async execute(input: unknown): Promise<ExecutionOutcome> {
      const key = input as string;
      if (key === failOn) throw new Error(`StartExecution failed for ${key}`);
      running++;
      executor.peak = Math.max(executor.peak, running);
      await new Promise((r) => setTimeout(r, delays[key]));
      running--;
      return { executionArn: `arn:${key}`, name: key, status: 'SUCCEEDED', input, startDate: '', stopDate: '', durationMs: delays[key] };
    },
  };
  return executor;
}

describe('runExecutions', () => {
  it('returns outcomes in input order, reports them in completion order, and limits concurrency', async () => {
    // Executions end when the test says so: no timing involved.
    const finish = new Map<string, () => void>();
    const started: string[] = [];
    const executor: WorkflowExecutor = {
      execute: (input) =>
        new Promise<ExecutionOutcome>((resolve) => {
          const key = input as string;
          started.push(key);
          finish.set(key, () => resolve({ executionArn: `arn:${key}`, name: key, status: 'SUCCEEDED', input, startDate: '', stopDate: '', durationMs: 1 }));
        }),
    };
    const completed: string[] = [];
    const settle = () => new Promise((r) => setImmediate(r));
    const run = runExecutions(executor, ['a', 'b', 'c', 'd'], { concurrency: 2, onOutcome: (o) => completed.push(o.name) });
    await settle();
    expect(started).toEqual(['a', 'b']);
    finish.get('b')!();
    await settle();
    expect(started).toEqual(['a', 'b', 'c']);
    finish.get('c')!();
    await settle();
    finish.get('d')!();
    finish.get('a')!();
    const outcomes = await run;
    expect(outcomes.map((o) => o.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(completed).toEqual(['b', 'c', 'd', 'a']);
  });

  it('throws the error of an execution that could not be run, after those in flight', async () => {
    const executor = fakeExecutor({ a: 5, b: 5, c: 5 }, 'b');
    await expect(runExecutions(executor, ['a', 'b', 'c'], { concurrency: 1 })).rejects.toThrow('StartExecution failed for b');
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    const executor = fakeExecutor({ a: 5, b: 5, c: 5 });
    const run = runExecutions(executor, ['a', 'b', 'c'], { concurrency: 1, signal: controller.signal, onOutcome: () => controller.abort(new Error('interrupted')) });
    await expect(run).rejects.toThrow('interrupted');
  });

  it('handles no inputs and refuses a concurrency below 1', async () => {
    await expect(runExecutions(fakeExecutor({}), [], { concurrency: 3 })).resolves.toEqual([]);
    await expect(runExecutions(fakeExecutor({}), ['a'], { concurrency: 0 })).rejects.toThrow(/concurrency/);
  });
});
