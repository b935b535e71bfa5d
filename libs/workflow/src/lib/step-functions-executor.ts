import { randomUUID } from 'node:crypto';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent as SfnHistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { StepFunctionsError } from '../errors';
import type { ExecuteOptions, ExecutionOutcome, ExecutionStatus, HistoryEvent, WorkflowExecutor } from './execution';
import { systemClock, type Clock } from './clock';

export interface StepFunctionsExecutorOptions {
  client: SFNClient;
  stateMachineArn: string;
  /** First wait between DescribeExecution calls; it grows by half each time. Default 200 ms. */
  pollIntervalMs?: number;
  /** Longest wait between DescribeExecution calls. Default 2 s. */
  maxPollIntervalMs?: number;
  /** Read each execution's history (GetExecutionHistory) onto its outcome. */
  history?: boolean;
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
    const history = new HistoryReader(client, executionArn);
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
      if (executeOptions.onEvent) await history.read(signal).then((events) => events.forEach((e) => executeOptions.onEvent?.(e)));
      if (described.status && TERMINAL.has(described.status)) {
        const outcome = this.outcome(described, executionArn, name, input);
        if (executeOptions.onEvent || this.options.history) {
          const rest = await history.read(signal);
          rest.forEach((e) => executeOptions.onEvent?.(e));
          if (this.options.history) outcome.history = history.all;
        }
        return outcome;
      }
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

/** Pages an execution's history forward, in the shape of {@link HistoryEvent}. */
class HistoryReader {
  readonly all: HistoryEvent[] = [];
  private nextToken: string | undefined;
  private seen = 0;

  constructor(
    private readonly client: SFNClient,
    private readonly executionArn: string,
  ) {}

  /** The events not read yet. */
  async read(signal?: AbortSignal): Promise<HistoryEvent[]> {
    const fresh: HistoryEvent[] = [];
    for (;;) {
      let page;
      try {
        page = await this.client.send(new GetExecutionHistoryCommand({ executionArn: this.executionArn, maxResults: 1000, ...(this.nextToken ? { nextToken: this.nextToken } : {}) }), { abortSignal: signal });
      } catch (error) {
        signal?.throwIfAborted();
        throw new StepFunctionsError(`GetExecutionHistory of ${this.executionArn}: ${describeSdkError(error)}`, { cause: error });
      }
      const events = page.events ?? [];
      // Without a next token the same page is read again later: skip what was seen of it.
      const news = page.nextToken ? events : events.slice(this.seen);
      for (const event of news) fresh.push(toHistoryEvent(event));
      if (page.nextToken) {
        this.nextToken = page.nextToken;
        this.seen = 0;
        continue;
      }
      this.seen = events.length;
      break;
    }
    this.all.push(...fresh);
    return fresh;
  }
}

/** An AWS history event as the CLI shows it: type, time, state, Map index, error, cause, output. */
export function toHistoryEvent(event: SfnHistoryEvent): HistoryEvent {
  const history: HistoryEvent = { type: event.type ?? 'Unknown', timestamp: event.timestamp ? new Date(event.timestamp).getTime() : 0 };
  const entered = event.stateEnteredEventDetails;
  const exited = event.stateExitedEventDetails;
  if (entered?.name) history.stateName = entered.name;
  if (exited?.name) {
    history.stateName = exited.name;
    if (exited.output !== undefined) history.output = parseJson(exited.output);
  }
  const failure =
    event.executionFailedEventDetails ??
    event.taskFailedEventDetails ??
    event.lambdaFunctionFailedEventDetails ??
    event.mapIterationFailedEventDetails ??
    event.taskTimedOutEventDetails ??
    event.executionAbortedEventDetails ??
    event.executionTimedOutEventDetails;
  if (failure) {
    if ('error' in failure && failure.error !== undefined) history.error = failure.error;
    if ('cause' in failure && failure.cause !== undefined) history.cause = failure.cause;
  }
  const iteration = event.mapIterationStartedEventDetails ?? event.mapIterationSucceededEventDetails ?? event.mapIterationFailedEventDetails ?? event.mapIterationAbortedEventDetails;
  if (iteration?.index !== undefined) history.index = iteration.index;
  return history;
}
