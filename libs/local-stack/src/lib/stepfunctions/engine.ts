import { AsyncLocalStorage } from 'node:async_hooks';
import { dirname } from 'node:path';
import type * as LocalStepFunctions from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };
import { ensurePromiseWithResolvers } from '@scones/workflow';

// The engine ships CommonJS and ESM builds with ESM-only type declarations: types from the ESM
// side, code required as CommonJS (as libs/workflow's local runner does).
export const engine = (): typeof LocalStepFunctions => {
  ensurePromiseWithResolvers();
  return require('aws-local-stepfunctions');
};

export type EngineStateMachine = InstanceType<typeof LocalStepFunctions.StateMachine>;
export type EngineRun = ReturnType<EngineStateMachine['run']>;

/**
 * One run of the engine inside an execution: the execution itself, a Map iteration or a Parallel
 * branch (the engine runs each as a nested state machine). Events and Task calls are attributed
 * to their lane so the history links each event to the one before it in the same iteration.
 */
export interface Lane {
  readonly id: number;
  readonly parent?: Lane;
}

/** Follows the lanes of one execution: their creation, each event they dispatch, their end. */
export interface LaneTracker<L extends Lane> {
  /** A run starts: `machine` is the root state machine, a Map's item processor or a Parallel branch. */
  createLane(parent: L | undefined, machine: EngineStateMachine): L;
  /** The run of `lane` was created and may be aborted at once (an iteration that must not run). */
  started(lane: L, run: EngineRun): void;
  /** An event the lane's own run dispatched, in the order it dispatched them. */
  receive(lane: L, event: object): void;
  /** The lane's events are all delivered. */
  closed(lane: L): void;
}

/** The lane an engine event was dispatched in. */
export const LANE: unique symbol = Symbol('scones.lane');

type Store = { tracker: LaneTracker<Lane>; lane?: Lane };
const storage = new AsyncLocalStorage<Store>();
let patched = false;

/**
 * Runs a state machine on the engine with lanes: every nested run the engine starts for a Map
 * iteration or a Parallel branch gets its own lane, known to the Task handlers it calls
 * ({@link currentLane}); each run's own events go to the tracker in that run's order, taken as
 * its event log is read (by the engine's Map/Parallel, or by the caller for the root run). The
 * engine has no hook for this, so `StateMachine.prototype.run` is wrapped once; outside
 * `runWithLanes` the wrapper calls the original.
 */
export function runWithLanes<L extends Lane>(machine: EngineStateMachine, input: unknown, options: LocalStepFunctions.RunOptions, tracker: LaneTracker<L>): EngineRun {
  installLanes();
  return storage.run({ tracker: tracker as unknown as LaneTracker<Lane> }, () => machine.run(input as never, options));
}

/** The lane of the code running now (a Task handler), or undefined outside an execution. */
export function currentLane<L extends Lane>(): L | undefined {
  return storage.getStore()?.lane as L | undefined;
}

function installLanes(): void {
  if (patched) return;
  const prototype = engine().StateMachine.prototype;
  const original = prototype.run;
  if (typeof original !== 'function') throw new Error('aws-local-stepfunctions: StateMachine.prototype.run is missing; the engine version is not the one this stack was written for (3.x)');
  prototype.run = function run(this: EngineStateMachine, input, options) {
    const store = storage.getStore();
    if (!store) return original.call(this, input, options);
    const { tracker } = store;
    const lane = tracker.createLane(store.lane, this);
    const result = storage.run({ tracker, lane }, () => original.call(this, input, options));
    tracker.started(lane, result);
    return { ...result, eventLogs: captured(result.eventLogs, lane, tracker) };
  };
  patched = true;
}

async function* captured<T extends object>(events: AsyncGenerator<T>, lane: Lane, tracker: LaneTracker<Lane>): AsyncGenerator<T> {
  try {
    for await (const event of events) {
      // Events of deeper runs pass through here on their way up: only this run's own are taken.
      if (!(LANE in event)) {
        (event as Record<symbol, unknown>)[LANE] = lane;
        tracker.receive(lane, event);
      }
      yield event;
    }
  } finally {
    tracker.closed(lane);
  }
}

type JsonPathQuery = (options: { path: string; json: unknown; wrap: false }) => unknown;
let jsonPath: JsonPathQuery | undefined;

/**
 * Evaluates a JSONPath with the engine's own implementation (its jsonpath-plus), so a value the
 * history reports (a Map's item count) is the one the engine works with. `$$…` reads `context`.
 */
export function queryPath(path: string, input: unknown, context: unknown): unknown {
  jsonPath ??= (require(require.resolve('jsonpath-plus', { paths: [dirname(require.resolve('aws-local-stepfunctions'))] })) as { JSONPath: JsonPathQuery }).JSONPath;
  return path.startsWith('$$') ? jsonPath({ path: path.slice(1), json: context ?? null, wrap: false }) : jsonPath({ path, json: input, wrap: false });
}
