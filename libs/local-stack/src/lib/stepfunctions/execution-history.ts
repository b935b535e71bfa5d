import { engine, queryPath, type EngineRun, type EngineStateMachine, type Lane, type LaneTracker } from './engine';
import { ABSENT, displayName, type RunnableDefinition } from './runnable-definition';

/** One event of GetExecutionHistory, as the API carries it (timestamp in epoch seconds). */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** How an execution ended, read off its last history event. */
export interface ExecutionEnd {
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  /** JSON text. */
  output?: string;
  error?: string;
  cause?: string;
  /** Epoch milliseconds. */
  stopDate: number;
}

/** How a Task state's work appears in the history. */
export type TaskDescription = { kind: 'integration'; resourceType: string; resource: string; region: string } | { kind: 'function'; arn: string };

/** One call of a Task state's work (the first try or a retry). */
export interface TaskAttempt {
  readonly lane: HistoryLane;
  readonly task: TaskDescription;
  /** Its end is recorded (or will not be: the engine timed it out first). */
  closed: boolean;
}

/** The Map iterations or Parallel branches one run of a Map/Parallel state started. */
interface Activation {
  kind: 'Map' | 'Parallel';
  /** The engine's name of the Map/Parallel state. */
  owner: string;
  children: HistoryLane[];
  /** An iteration failed: iterations the engine starts after that must not run. */
  failed: boolean;
}

/** A Map or Parallel state the lane is running, as the history has recorded it. */
interface Composite {
  kind: 'Map' | 'Parallel';
  engineName: string;
  name: string;
  startedId: number;
  /** A Map over no items starts no iteration (so no activation is bound to it). */
  empty: boolean;
  activation?: Activation;
}

type QueuedEvent = { kind: 'engine'; event: EngineEvent } | { kind: 'task-start'; attempt: TaskAttempt; input: unknown; declared: { timeoutSeconds?: number; heartbeatSeconds?: number }; at: number } | { kind: 'task-end'; attempt: TaskAttempt; at: number; output?: unknown; error?: string; cause?: string };

export interface HistoryLane extends Lane {
  readonly parent?: HistoryLane;
  /** The Map/Parallel run this lane is an iteration/branch of. */
  readonly activation?: Activation;
  /** Events received, not yet recorded (they wait for what must come before them). */
  readonly queue: QueuedEvent[];
  /** The id of the last event of this lane: the next one's previousEventId. */
  last: number;
  composite?: Composite;
  /** Activations of this lane's Map/Parallel states not yet matched with the state's history. */
  readonly unbound: Activation[];
  /** The iteration has started in the history (MapIterationStarted). */
  opened: boolean;
  /** Its run has ended (its last event is recorded). */
  finished: boolean;
  /** Its run was aborted (or must not run): Task handlers in it do not call their service. */
  stopped: boolean;
  /** Never shown: an iteration the engine started after its Map had already failed. */
  discarded: boolean;
  /** Its run has returned (known at once, before its last events are taken). */
  settled: boolean;
  /** Iterations of the same Map that had returned when this one was started: their end comes first. */
  readonly after: readonly HistoryLane[];
  /** The composite state of this lane failed (its exit after a Catch is not a success). */
  compositeFailed: boolean;
  /** The last event the lane's run dispatched that the history has taken. */
  received?: EngineEvent;
  /** The entry (or retry) the last Task handler call in this lane was matched with. */
  claimed?: EngineEvent;
  /** A Task handler of this lane waiting for its state's entry to be taken. */
  taskWaiter?: { state: string; resolve(): void };
  /** The state this lane entered last and its event id (causes of States.Runtime name it). */
  state?: { name: string; enteredId: number };
  attempt?: TaskAttempt;
}

// What the engine dispatches (aws-local-stepfunctions 3.0 EventLog), loosely.
interface EngineState {
  name: string;
  type: string;
  input?: unknown;
  output?: unknown;
}
interface EngineEvent {
  type: string;
  timestamp: number;
  input?: unknown;
  output?: unknown;
  state?: EngineState;
  Error?: string;
  Cause?: unknown;
}

const NOT_CATCHABLE = new Set(['States.Runtime', 'States.DataLimitExceeded']);
let ExecutionAbortedError: ReturnType<typeof engine>['ExecutionAbortedError'] | undefined;
const data = (value: unknown) => JSON.stringify(value === undefined ? null : value);
type Owner = { kind: 'Map' | 'Parallel'; engineName: string };

/**
 * Step Functions' history of one execution, built from what the engine reports (states entered,
 * exited, failed, runs of Map iterations and Parallel branches) and what the Task handlers report:
 * the event types and details fields of the API, numbered from 1, each linked by previousEventId to
 * the event before it in the same Map iteration or Parallel branch, as Step Functions links them.
 *
 * The engine forwards nested runs' events to the root asynchronously, so a Map's exit can reach the
 * root before its iterations' last events. Each run's own events are therefore taken from that run
 * (see {@link LaneTracker}), queued per lane, and recorded when what must come first is recorded:
 * an iteration starts after its Map state, and a Map/Parallel state ends after all its iterations.
 */
export class ExecutionHistory implements LaneTracker<HistoryLane> {
  readonly events: HistoryEvent[] = [];
  end: ExecutionEnd | undefined;
  /** StopExecution's error and cause, for the ExecutionAborted event. */
  stopRequest: { error?: string; cause?: string } | undefined;
  private nextLane = 1;
  private open = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly waiting = new Set<HistoryLane>();
  private readonly owners = new WeakMap<object, Owner>();
  private readonly mapActivations = new WeakMap<EngineStateMachine, Activation>();
  /** The first state that failed with a non-catchable error: its cause is reworded as AWS words it. */
  private runtimeFailure: { state: string; enteredId: number } | undefined;

  constructor(
    private readonly options: {
      states: RunnableDefinition['states'];
      roleArn: string;
      /** The context object (`$$`) the engine runs with, for Map ItemsPath `$$…`. */
      context: unknown;
      onEvent?(event: HistoryEvent): void;
    },
  ) {
    // Nested runs are told apart by the definition object the engine runs (the same objects).
    for (const [engineName, { state }] of options.states) {
      if (state.Type === 'Map') this.owners.set((state.ItemProcessor ?? state.Iterator) as object, { kind: 'Map', engineName });
      if (state.Type === 'Parallel') for (const branch of state.Branches as object[]) this.owners.set(branch, { kind: 'Parallel', engineName });
    }
  }

  // ---- LaneTracker ----------------------------------------------------------------------------

  createLane(parent: HistoryLane | undefined, machine: EngineStateMachine): HistoryLane {
    let activation: Activation | undefined;
    if (parent) {
      const owner = this.owners.get((machine as unknown as { definition: object }).definition);
      if (owner) activation = this.activationFor(parent, machine, owner);
    }
    const lane: HistoryLane = {
      id: this.nextLane++,
      parent,
      activation,
      queue: [],
      last: 0,
      unbound: [],
      opened: !parent,
      finished: false,
      stopped: false,
      discarded: false,
      settled: false,
      // With MaxConcurrency the engine starts an iteration when another returns: that one ended first.
      after: activation?.children.filter((sibling) => sibling.settled && !sibling.finished) ?? [],
      compositeFailed: false,
    };
    // An iteration the engine starts after its Map failed (its queue of items goes on) or after
    // the execution ended must not run: it is aborted at once and never shown.
    if (parent && (activation?.failed || this.isStopped(parent))) lane.discarded = lane.stopped = true;
    activation?.children.push(lane);
    this.open++;
    return lane;
  }

  started(lane: HistoryLane, run: EngineRun): void {
    ExecutionAbortedError ??= engine().ExecutionAbortedError;
    run.result.then(
      () => {
        lane.settled = true;
      },
      (error: unknown) => {
        lane.settled = true;
        if (ExecutionAbortedError && error instanceof ExecutionAbortedError) lane.stopped = true;
        else if (lane.activation) lane.activation.failed = true;
      },
    );
    if (lane.discarded) run.abort();
  }

  receive(lane: HistoryLane, event: object): void {
    const engineEvent = event as EngineEvent;
    lane.received = engineEvent;
    this.enqueue(lane, { kind: 'engine', event: engineEvent });
    if (lane.taskWaiter && this.attemptOpened(lane, lane.taskWaiter.state)) {
      const { resolve } = lane.taskWaiter;
      lane.taskWaiter = undefined;
      lane.claimed = engineEvent;
      resolve();
    }
  }

  closed(): void {
    this.open--;
    if (this.open === 0) for (const done of this.idleWaiters.splice(0)) done();
  }

  // ---- Task handlers ---------------------------------------------------------------------------

  /** Whether work in this lane must not start: it (or an enclosing run) was aborted, or the execution ended. */
  isStopped(lane: HistoryLane): boolean {
    if (this.end) return true;
    for (let l: HistoryLane | undefined = lane; l; l = l.parent) if (l.stopped) return true;
    return false;
  }

  /**
   * Resolves once the history has taken the engine's entry into (or retry of) the Task state whose
   * handler is now called: the engine dispatched it just before calling the handler, and the
   * history takes each event a few promise turns later. Without this wait, the task's events
   * could be recorded before the state's entry.
   */
  taskCalled(lane: HistoryLane, engineState: string): Promise<void> | undefined {
    if (this.attemptOpened(lane, engineState)) {
      lane.claimed = lane.received;
      return undefined;
    }
    return new Promise<void>((resolve) => {
      // A safety net: the entry arrives within microtasks; never hold a task up for long.
      const timer = setTimeout(() => {
        lane.taskWaiter = undefined;
        resolve();
      }, 1000);
      lane.taskWaiter = {
        state: engineState,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }

  /** The lane's last event opens an attempt of this Task state that no handler call has taken yet. */
  private attemptOpened(lane: HistoryLane, engineState: string): boolean {
    const last = lane.received;
    return last !== lane.claimed && (last?.type === 'StateEntered' || last?.type === 'StateRetried') && last.state?.name === engineState;
  }

  /** A Task handler is about to call its service: TaskScheduled + TaskStarted (or the Lambda function events). */
  taskStarted(lane: HistoryLane, task: TaskDescription, input: unknown, declared: { timeoutSeconds?: number; heartbeatSeconds?: number }): TaskAttempt {
    const attempt: TaskAttempt = { lane, task, closed: false };
    this.enqueue(lane, { kind: 'task-start', attempt, input, declared, at: Date.now() });
    return attempt;
  }

  taskSucceeded(attempt: TaskAttempt, output: unknown): void {
    this.enqueue(attempt.lane, { kind: 'task-end', attempt, output, at: Date.now() });
  }

  taskFailed(attempt: TaskAttempt, error: string, cause: string): void {
    this.enqueue(attempt.lane, { kind: 'task-end', attempt, error, cause, at: Date.now() });
  }

  // ---- The end ---------------------------------------------------------------------------------

  /** Resolves once every run's events have been delivered (or after `limitMs`). */
  async settled(limitMs: number): Promise<void> {
    if (this.open === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise<void>((done) => this.idleWaiters.push(done)), new Promise<void>((done) => (timer = setTimeout(done, limitMs)))]);
    clearTimeout(timer);
  }

  /** Records what is still queued, waiting for nothing more (the engine has stopped). */
  finish(): void {
    this.drain(true);
  }

  // ---- Recording ---------------------------------------------------------------------------------

  private enqueue(lane: HistoryLane, entry: QueuedEvent): void {
    lane.queue.push(entry);
    this.waiting.add(lane);
    this.drain(false);
  }

  private drain(force: boolean): void {
    let progress = true;
    while (progress) {
      progress = false;
      for (const lane of this.waiting) {
        while (lane.queue.length > 0 && (force || this.ready(lane, lane.queue[0]))) {
          const entry = lane.queue.shift() as QueuedEvent;
          if (!this.end && !lane.discarded) this.record(lane, entry);
          progress = true;
        }
        if (lane.queue.length === 0) this.waiting.delete(lane);
      }
    }
  }

  /** Whether what must be recorded before `entry` has been. */
  private ready(lane: HistoryLane, entry: QueuedEvent): boolean {
    if (this.end || lane.discarded) return true;
    // An iteration's first event waits for its Map/Parallel state's start in the parent lane.
    if (!lane.opened) return !lane.activation || !lane.parent || (this.bind(lane.parent)?.activation === lane.activation && lane.after.every((sibling) => sibling.finished || sibling.discarded));
    if (entry.kind !== 'engine') return true;
    const { event } = entry;
    if ((event.type === 'StateExited' || event.type === 'StateFailed') && (event.state?.type === 'Map' || event.state?.type === 'Parallel')) {
      // A Map/Parallel state ends after every iteration it started has ended.
      const composite = this.bind(lane);
      if (!composite) return true;
      if (!composite.activation) return composite.empty || event.type === 'StateFailed' || lane.unbound.length === 0;
      return composite.activation.children.every((child) => child.discarded || child.finished);
    }
    return true;
  }

  /** The lane's running composite, matched with the oldest activation of that state not yet matched. */
  private bind(lane: HistoryLane): Composite | undefined {
    const composite = lane.composite;
    if (!composite || composite.activation || composite.empty) return composite;
    const index = lane.unbound.findIndex((a) => a.owner === composite.engineName);
    if (index >= 0) composite.activation = lane.unbound.splice(index, 1)[0];
    return composite;
  }

  private activationFor(parent: HistoryLane, machine: EngineStateMachine, owner: Owner): Activation {
    // A Map runs all its iterations on one state machine object; a Parallel makes one per branch,
    // all at once, so its branches are grouped by count.
    if (owner.kind === 'Map') {
      let activation = this.mapActivations.get(machine);
      if (!activation) {
        activation = { kind: 'Map', owner: owner.engineName, children: [], failed: false };
        this.mapActivations.set(machine, activation);
        parent.unbound.push(activation);
      }
      return activation;
    }
    const branches = (this.options.states.get(owner.engineName)?.state.Branches as unknown[] | undefined)?.length ?? 1;
    const open = [parent.composite?.activation, ...parent.unbound].find((a) => a?.owner === owner.engineName && a.children.length < branches);
    if (open) return open;
    const activation: Activation = { kind: 'Parallel', owner: owner.engineName, children: [], failed: false };
    parent.unbound.push(activation);
    return activation;
  }

  private record(lane: HistoryLane, entry: QueuedEvent): void {
    if (entry.kind === 'task-start') return this.recordTaskStart(lane, entry);
    if (entry.kind === 'task-end') return this.recordTaskEnd(entry);
    const { event } = entry;
    const at = event.timestamp;
    if (!lane.opened) this.openIteration(lane, at);
    switch (event.type) {
      case 'ExecutionStarted':
        // Step Functions does not link the first state to ExecutionStarted (both have previousEventId 0).
        if (!lane.parent) this.add(lane, at, 'ExecutionStarted', { executionStartedEventDetails: { input: data(event.input), inputDetails: { truncated: false }, roleArn: this.options.roleArn } }, { advance: false });
        return;
      case 'StateEntered':
        return event.state && this.stateEntered(lane, event.state, at);
      case 'StateExited':
        return event.state && this.stateExited(lane, event.state, at);
      case 'StateFailed':
        return event.state && this.stateFailed(lane, event.state.type, event, at);
      case 'StateRetried':
        // The engine runs a retried Map or Parallel again without entering it again: a new start.
        if (event.state?.type === 'Map' || event.state?.type === 'Parallel') this.compositeStarted(lane, event.state.name, event.state.type, event.state.input, at);
        return;
      case 'ExecutionSucceeded':
        if (lane.parent) return this.iterationEnded(lane, at, 'MapIterationSucceeded');
        this.add(lane, at, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: data(event.output), outputDetails: { truncated: false } } }, { previous: this.events.length });
        this.end = { status: 'SUCCEEDED', output: data(event.output), stopDate: at };
        return;
      case 'ExecutionFailed':
        if (lane.parent) return this.iterationEnded(lane, at, 'MapIterationFailed');
        return this.executionFailed(lane, event);
      case 'ExecutionAborted': {
        if (lane.parent) return this.iterationEnded(lane, at, 'MapIterationAborted');
        const stop = this.stopRequest ?? {};
        this.add(lane, at, 'ExecutionAborted', { executionAbortedEventDetails: { ...(stop.error !== undefined ? { error: stop.error } : {}), ...(stop.cause !== undefined ? { cause: stop.cause } : {}) } }, { previous: this.events.length });
        this.end = { status: 'ABORTED', ...stop, stopDate: at };
        return;
      }
      case 'ExecutionTimeout': {
        const cause = "The execution ran longer than the state machine's TimeoutSeconds";
        this.add(lane, at, 'ExecutionTimedOut', { executionTimedOutEventDetails: { error: 'States.Timeout', cause } }, { previous: this.events.length });
        this.end = { status: 'TIMED_OUT', error: 'States.Timeout', cause, stopDate: at };
        return;
      }
    }
  }

  private openIteration(lane: HistoryLane, at: number): void {
    lane.opened = true;
    const composite = lane.parent?.composite;
    if (!composite || !lane.activation) return;
    lane.last = composite.startedId;
    if (composite.kind === 'Map') this.add(lane, at, 'MapIterationStarted', { mapIterationStartedEventDetails: { name: composite.name, index: lane.activation.children.indexOf(lane) } });
  }

  private iterationEnded(lane: HistoryLane, at: number, type: 'MapIterationSucceeded' | 'MapIterationFailed' | 'MapIterationAborted'): void {
    lane.finished = true;
    const activation = lane.activation;
    if (activation?.kind !== 'Map') return;
    const name = displayName(activation.owner);
    this.add(lane, at, type, { [`${lowerFirst(type)}EventDetails`]: { name, index: activation.children.indexOf(lane) } });
  }

  private executionFailed(lane: HistoryLane, event: EngineEvent): void {
    const error = event.Error === ABSENT ? undefined : event.Error;
    let cause = event.Cause === undefined || event.Cause === ABSENT ? undefined : typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
    if (error === 'States.Runtime' && this.runtimeFailure && cause !== undefined) {
      cause = `An error occurred while executing the state '${this.runtimeFailure.state}' (entered at the event id #${this.runtimeFailure.enteredId}). ${cause}`;
    }
    this.add(lane, event.timestamp, 'ExecutionFailed', { executionFailedEventDetails: { ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) } }, { previous: this.events.length });
    this.end = { status: 'FAILED', ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}), stopDate: event.timestamp };
  }

  private recordTaskStart(lane: HistoryLane, entry: Extract<QueuedEvent, { kind: 'task-start' }>): void {
    const { attempt, input, declared, at } = entry;
    lane.attempt = attempt;
    const { task } = attempt;
    if (task.kind === 'integration') {
      const { resourceType, resource, region } = task;
      this.add(lane, at, 'TaskScheduled', {
        taskScheduledEventDetails: {
          resourceType,
          resource,
          region,
          parameters: data(input),
          ...(declared.timeoutSeconds !== undefined ? { timeoutInSeconds: declared.timeoutSeconds } : {}),
          ...(declared.heartbeatSeconds !== undefined ? { heartbeatInSeconds: declared.heartbeatSeconds } : {}),
        },
      });
      this.add(lane, at, 'TaskStarted', { taskStartedEventDetails: { resourceType, resource } });
    } else {
      this.add(lane, at, 'LambdaFunctionScheduled', {
        lambdaFunctionScheduledEventDetails: { resource: task.arn, input: data(input), inputDetails: { truncated: false }, ...(declared.timeoutSeconds !== undefined ? { timeoutInSeconds: declared.timeoutSeconds } : {}) },
      });
      this.add(lane, at, 'LambdaFunctionStarted', {});
    }
  }

  private recordTaskEnd(entry: Extract<QueuedEvent, { kind: 'task-end' }>, timedOut = false): void {
    const { attempt, at } = entry;
    if (attempt.closed) return;
    attempt.closed = true;
    const { task, lane } = attempt;
    if (entry.error === undefined) {
      if (task.kind === 'integration') this.add(lane, at, 'TaskSucceeded', { taskSucceededEventDetails: { resourceType: task.resourceType, resource: task.resource, output: data(entry.output), outputDetails: { truncated: false } } });
      else this.add(lane, at, 'LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output: data(entry.output), outputDetails: { truncated: false } } });
      return;
    }
    const what = timedOut ? 'TimedOut' : 'Failed';
    const failure = { error: entry.error, cause: entry.cause ?? '' };
    if (task.kind === 'integration') this.add(lane, at, `Task${what}`, { [`task${what}EventDetails`]: { resourceType: task.resourceType, resource: task.resource, ...failure } });
    else this.add(lane, at, `LambdaFunction${what}`, { [`lambdaFunction${what}EventDetails`]: failure });
  }

  private stateEntered(lane: HistoryLane, state: EngineState, at: number): void {
    const name = displayName(state.name);
    const entered = this.add(lane, at, `${state.type}StateEntered`, { stateEnteredEventDetails: { name, input: data(state.input), inputDetails: { truncated: false } } });
    lane.state = { name, enteredId: entered.id };
    lane.attempt = undefined;
    if (state.type === 'Parallel' || state.type === 'Map') this.compositeStarted(lane, state.name, state.type, state.input, at);
  }

  private compositeStarted(lane: HistoryLane, engineName: string, type: 'Map' | 'Parallel', input: unknown, at: number): void {
    lane.compositeFailed = false;
    if (type === 'Parallel') {
      const started = this.add(lane, at, 'ParallelStateStarted', {});
      lane.composite = { kind: 'Parallel', engineName, name: displayName(engineName), startedId: started.id, empty: false };
    } else {
      const length = this.mapLength(engineName, input);
      const started = this.add(lane, at, 'MapStateStarted', length === undefined ? {} : { mapStateStartedEventDetails: { length } });
      lane.composite = { kind: 'Map', engineName, name: displayName(engineName), startedId: started.id, empty: length === 0 };
    }
    this.bind(lane);
  }

  private stateExited(lane: HistoryLane, state: EngineState, at: number): void {
    const composite = lane.composite;
    let previous: number | undefined;
    if (composite && !lane.compositeFailed) {
      // Step Functions links MapStateSucceeded and MapStateExited alike to the last event of the iterations.
      previous = this.lastOfIterations(composite);
      this.add(lane, at, `${composite.kind}StateSucceeded`, {}, { previous, advance: false });
    }
    lane.composite = undefined;
    lane.compositeFailed = false;
    this.add(lane, at, `${state.type}StateExited`, { stateExitedEventDetails: { name: displayName(state.name), output: data(state.output), outputDetails: { truncated: false } } }, previous !== undefined ? { previous } : {});
  }

  private stateFailed(lane: HistoryLane, type: string, event: EngineEvent, at: number): void {
    const error = event.Error ?? 'States.Runtime';
    const cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause ?? '');
    if (NOT_CATCHABLE.has(error) && !this.runtimeFailure && lane.state) this.runtimeFailure = { state: lane.state.name, enteredId: lane.state.enteredId };
    if (type === 'Task') {
      // A failure the handler did not report is the engine's own: the Task's TimeoutSeconds, or a
      // path of ResultSelector/ResultPath/OutputPath after the task succeeded.
      const attempt = lane.attempt;
      if (attempt && !attempt.closed && error === 'States.Timeout') this.recordTaskEnd({ kind: 'task-end', attempt, error, cause, at }, true);
      else if (attempt) attempt.closed = true;
      return;
    }
    const composite = lane.composite;
    if (!composite) return;
    if (!NOT_CATCHABLE.has(error)) this.add(lane, at, `${composite.kind}StateFailed`, {}, { previous: this.lastOfIterations(composite) });
    lane.composite = undefined;
    lane.compositeFailed = true;
  }

  private lastOfIterations(composite: Composite): number {
    const children = composite.activation?.children.filter((c) => !c.discarded) ?? [];
    return Math.max(composite.startedId, ...children.map((c) => c.last));
  }

  /** The number of items a Map state iterates: its input through InputPath, then ItemsPath. */
  private mapLength(engineName: string, input: unknown): number | undefined {
    const state = this.options.states.get(engineName)?.state;
    if (!state) return undefined;
    try {
      let effective = input;
      if ('InputPath' in state) effective = state.InputPath === null ? {} : queryPath(state.InputPath as string, input, this.options.context);
      const items = typeof state.ItemsPath === 'string' ? queryPath(state.ItemsPath, effective, this.options.context) : effective;
      return Array.isArray(items) ? items.length : undefined;
    } catch {
      return undefined;
    }
  }

  private add(lane: HistoryLane, timestampMs: number, type: string, details: Record<string, unknown>, link: { previous?: number; advance?: boolean } = {}): HistoryEvent {
    const id = this.events.length + 1;
    const event: HistoryEvent = { timestamp: timestampMs / 1000, type, id, previousEventId: link.previous ?? lane.last, ...details };
    this.events.push(event);
    if (link.advance !== false) lane.last = id;
    this.options.onEvent?.(event);
    return event;
  }
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
