import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, StartExecutionCommand, type DescribeExecutionCommandOutput, type SFNClient } from '@aws-sdk/client-sfn';
import { StepFunctionsError } from '../errors';
import type { ExecuteOptions, ExecutionOutcome, ExecutionStatus, WorkflowExecutor } from './execution';
import { systemClock, type Clock } from './clock';

export interface StepFunctionsExecutorOptions {
  client: SFNClient;
  stateMachineArn: string;
  /** First wait between DescribeExecution calls; it grows by half each time. Default 200 ms. */
  pollIntervalMs?: number;
  /** Longest wait between DescribeExecution calls. Default 2 s. */
  maxPollIntervalMs?: number;
  clock?: Clock;
}

const TERMINAL: ReadonlySet<string> = new Set<ExecutionStatus>(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

function describeSdkError(error: unknown): string {
  const { name, message } = error as Error;
  return name && name !== 'Error' ? `${name}: ${message}` : String(message ?? error);
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Runs executions on AWS Step Functions: StartExecution, then DescribeExecution until the
 * execution has ended (polling with a growing interval, so many executions in flight stay under
 * the API's rate limits). The outcome has the same shape as the local runner's, without history.
 * Aborting stops waiting; the execution itself keeps running on AWS.
 */
export class StepFunctionsExecutor implements WorkflowExecutor {
  private readonly clock: Clock;

  constructor(private readonly options: StepFunctionsExecutorOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async execute(input: unknown, executeOptions: ExecuteOptions = {}): Promise<ExecutionOutcome> {
    const { client, stateMachineArn } = this.options;
    const { signal } = executeOptions;
    const name = executeOptions.name ?? randomUUID();
    let executionArn: string;
    try {
      const started = await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }), { abortSignal: signal });
      if (!started.executionArn) throw new Error('the answer has no executionArn');
      executionArn = started.executionArn;
    } catch (error) {
      signal?.throwIfAborted();
      throw new StepFunctionsError(`StartExecution of ${stateMachineArn}: ${describeSdkError(error)}`, { cause: error });
    }
    let interval = this.options.pollIntervalMs ?? 200;
    const maxInterval = this.options.maxPollIntervalMs ?? 2000;
    for (;;) {
      await this.clock.sleep(interval, signal);
      signal?.throwIfAborted();
      let described: DescribeExecutionCommandOutput;
      try {
        described = await client.send(new DescribeExecutionCommand({ executionArn }), { abortSignal: signal });
      } catch (error) {
        signal?.throwIfAborted();
        throw new StepFunctionsError(`DescribeExecution of ${executionArn}: ${describeSdkError(error)}`, { cause: error });
      }
      if (described.status && TERMINAL.has(described.status)) return this.outcome(described, executionArn, name, input);
      interval = Math.min(maxInterval, interval * 1.5);
    }
  }

  private outcome(described: DescribeExecutionCommandOutput, executionArn: string, name: string, input: unknown): ExecutionOutcome {
    const startDate = described.startDate ?? new Date();
    const stopDate = described.stopDate ?? new Date();
    return {
      executionArn,
      name,
      status: described.status as ExecutionStatus,
      input,
      ...(described.output !== undefined ? { output: parseJson(described.output) } : {}),
      ...(described.error !== undefined ? { error: described.error } : {}),
      ...(described.cause !== undefined ? { cause: described.cause } : {}),
      startDate: startDate.toISOString(),
      stopDate: stopDate.toISOString(),
      durationMs: stopDate.getTime() - startDate.getTime(),
    };
  }
}
