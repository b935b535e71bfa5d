import type { Notification } from './local-integrations';

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One event of an execution's history (local runner). */
export interface HistoryEvent {
  /** ExecutionStarted, StateEntered, StateExited, StateFailed, StateRetried, StateCaught, MapIterationStarted, ... */
  type: string;
  /** Epoch milliseconds. */
  timestamp: number;
  stateName?: string;
  stateType?: string;
  /** The Map iteration (item index) the event belongs to. */
  index?: number;
  error?: string;
  cause?: string;
  /** StateRetried: which retry this is (1 = the first). */
  retryAttempt?: number;
  /** StateExited: what the state passed on. */
  output?: unknown;
}

/** How one execution ended, the same for the local runner and AWS Step Functions. */
export interface ExecutionOutcome {
  executionArn: string;
  name: string;
  status: ExecutionStatus;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  /** ISO-8601. */
  startDate: string;
  stopDate: string;
  durationMs: number;
  /** States entered and exited, retries, catches (local runner). */
  history?: HistoryEvent[];
  /** Messages the execution published to its failure topic (local runner). */
  notifications?: Notification[];
}

export interface ExecuteOptions {
  /** Execution name (unique per state machine on AWS). Default: a random UUID. */
  name?: string;
  /** Stops waiting (local: aborts the execution). */
  signal?: AbortSignal;
  /** Local: called with each history event as it happens (live progress of a Map, say). */
  onEvent?: (event: HistoryEvent) => void;
}

/** Something that runs executions of a state machine: the local runner or AWS Step Functions. */
export interface WorkflowExecutor {
  execute(input: unknown, options?: ExecuteOptions): Promise<ExecutionOutcome>;
}
