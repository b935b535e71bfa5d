import { scaleRetryIntervals } from '@scones/workflow';

/**
 * The longest delay a Node.js timer can wait (2^31-1 ms): a longer one fires at once. The engine
 * sets timers for TimeoutSeconds and Wait states, so longer values are capped (about 24.8 days).
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Step Functions' default Task timeout (the engine's own default would be 60 s). */
const TASK_DEFAULT_TIMEOUT_SECONDS = 99_999_999;

/** Marks a Fail state without Error (or Cause): the execution then fails with no error (cause), as on AWS. */
export const ABSENT = '\u0000absent';

/** Separates a state's name from the suffix that makes a repeated name unique for the engine. */
const RENAMED = '\u0000';

/** What the engine runs and how to read its events back. */
export interface RunnableDefinition {
  definition: Record<string, unknown>;
  /** Each state by the name the engine knows it by (unique across all nesting levels). */
  states: ReadonlyMap<string, StateEntry>;
}

export interface StateEntry {
  /** The name in the definition. */
  name: string;
  /** The state as the engine runs it. */
  state: Record<string, unknown>;
  /** TimeoutSeconds/HeartbeatSeconds as the definition declares them (the history shows them). */
  declared: { timeoutSeconds?: number; heartbeatSeconds?: number };
}

/** The state's name as written in the definition (the engine may know it by a unique alias). */
export function displayName(engineName: string): string {
  const cut = engineName.indexOf(RENAMED);
  return cut < 0 ? engineName : engineName.slice(0, cut);
}

type Json = Record<string, unknown>;

/**
 * A deep copy made with this realm's JSON: the engine recognises payload templates by
 * `Object.getPrototypeOf(value) === Object.prototype`, which a structuredClone made in another
 * realm (Jest's sandbox gets Node's) fails, so templates would be passed on unresolved.
 */
export function copyJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A copy of a checked definition that aws-local-stepfunctions 3.0 runs the way Step Functions
 * does. It works around the engine where it differs from AWS:
 * - Task `TimeoutSeconds` defaults to 60 s in the engine, to 99999999 s on AWS; timers are capped
 *   at {@link MAX_TIMER_SECONDS} (a longer Node.js timer fires at once).
 * - `"ResultPath": "$"` writes a field named `$` instead of replacing the input: dropped (the default).
 * - A Pass state's falsy `Result` (0, false, "", null) is ignored: moved to `Parameters`.
 * - Choice type tests with `false` (`"IsPresent": false`…) never match: rewritten as `Not`.
 * - A Fail state without Error/Cause fails with "FailStateError": marked, and left out of the history.
 * - Task overrides are keyed by state name across nesting levels: repeated names get a unique alias.
 * - `retryIntervalScale` multiplies Retry intervals (tests), as the project's local runner does.
 */
export function runnableDefinition(checked: Json, options: { retryIntervalScale?: number } = {}): RunnableDefinition {
  const scale = options.retryIntervalScale ?? 1;
  const definition = scale === 1 ? copyJson(checked) : scaleRetryIntervals(copyJson(checked), scale);
  if (typeof definition.TimeoutSeconds === 'number') definition.TimeoutSeconds = Math.min(definition.TimeoutSeconds, MAX_TIMER_SECONDS);
  const states = new Map<string, StateEntry>();
  rewriteMachine(definition, states, false);
  return { definition, states };
}

function rewriteMachine(machine: Json, seen: Map<string, StateEntry>, nested: boolean): void {
  const states = machine.States as Json;
  const aliases = new Map<string, string>();
  // Every name of this level is claimed before any nested level is visited.
  for (const [name, value] of Object.entries(states)) {
    let engineName = name;
    for (let n = 2; seen.has(engineName); n++) engineName = `${name}${RENAMED}${n}`;
    if (engineName !== name) aliases.set(name, engineName);
    const state = value as Json;
    seen.set(engineName, {
      name,
      state,
      declared: {
        ...(typeof state.TimeoutSeconds === 'number' ? { timeoutSeconds: state.TimeoutSeconds } : {}),
        ...(typeof state.HeartbeatSeconds === 'number' ? { heartbeatSeconds: state.HeartbeatSeconds } : {}),
      },
    });
  }
  const alias = (name: unknown) => (typeof name === 'string' ? (aliases.get(name) ?? name) : name);
  const renamed: Json = {};
  for (const [name, value] of Object.entries(states)) {
    const state = value as Json;
    renamed[alias(name) as string] = state;
    if ('Next' in state) state.Next = alias(state.Next);
    if ('Default' in state) state.Default = alias(state.Default);
    if (Array.isArray(state.Choices)) state.Choices = state.Choices.map((rule: Json) => ({ ...rewriteChoiceRule(rule), ...('Next' in rule ? { Next: alias(rule.Next) } : {}) }));
    if (Array.isArray(state.Catch)) state.Catch = state.Catch.map((catcher: Json) => dropRootResultPath({ ...catcher, Next: alias(catcher.Next) }));
    dropRootResultPath(state);
    rewriteState(state, seen, nested);
  }
  machine.States = renamed;
  machine.StartAt = alias(machine.StartAt);
}

function rewriteState(state: Json, seen: Map<string, StateEntry>, nested: boolean): void {
  switch (state.Type) {
    case 'Task':
      if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = TASK_DEFAULT_TIMEOUT_SECONDS;
      if (typeof state.TimeoutSeconds === 'number') state.TimeoutSeconds = Math.min(state.TimeoutSeconds, MAX_TIMER_SECONDS);
      break;
    case 'Wait':
      if (typeof state.Seconds === 'number') state.Seconds = Math.min(state.Seconds, MAX_TIMER_SECONDS);
      break;
    case 'Pass':
      if ('Result' in state && !state.Result) {
        state.Parameters = state.Result;
        delete state.Result;
      }
      break;
    case 'Fail':
      // Only where the failure ends the execution: a nested Fail can be caught, and its Error and
      // Cause then become state data, where a marker must not appear.
      if (nested) break;
      if (state.Error === undefined && state.ErrorPath === undefined) state.Error = ABSENT;
      if (state.Cause === undefined && state.CausePath === undefined) state.Cause = ABSENT;
      break;
    case 'Parallel':
      for (const branch of state.Branches as Json[]) rewriteMachine(branch, seen, true);
      break;
    case 'Map':
      rewriteMachine((state.ItemProcessor ?? state.Iterator) as Json, seen, true);
      break;
  }
}

/** `"ResultPath": "$"` means what leaving it out means; the engine would write a field named `$`. */
function dropRootResultPath(node: Json): Json {
  if (node.ResultPath === '$') delete node.ResultPath;
  return node;
}

const TYPE_TESTS = ['IsNull', 'IsPresent', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'];

/** The engine's type tests only ever match `true`: `{"IsPresent": false}` becomes `{"Not": {"IsPresent": true}}`. */
function rewriteChoiceRule(rule: Json): Json {
  if (!isObject(rule)) return rule;
  if (Array.isArray(rule.And)) return { ...rule, And: rule.And.map(rewriteChoiceRule) };
  if (Array.isArray(rule.Or)) return { ...rule, Or: rule.Or.map(rewriteChoiceRule) };
  if (isObject(rule.Not)) return { ...rule, Not: rewriteChoiceRule(rule.Not) };
  const test = TYPE_TESTS.find((name) => rule[name] === false);
  if (!test) return rule;
  const { Next, ...comparison } = rule;
  return { Not: { ...comparison, [test]: true }, ...(Next !== undefined ? { Next } : {}) };
}
