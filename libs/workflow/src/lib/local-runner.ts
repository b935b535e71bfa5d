import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type * as LocalStepFunctions from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };
import { LocalRunnerError } from '../errors';
import type { AslDefinition, AslState, AslStateMachine } from './asl-types';
import type { ExecuteOptions, ExecutionOutcome, HistoryEvent, WorkflowExecutor } from './execution';
import { createLambdaInvoker, type LambdaHandler } from './lambda-invoke';
import { createS3ObjectLister, createSnsPublisher, type Notification } from './local-integrations';
import { ensurePromiseWithResolvers } from './promise-with-resolvers';
import { TaskFailure } from './task-failure';
import { LAMBDA_INVOKE_RESOURCE, S3_LIST_OBJECTS_V2_RESOURCE, SNS_PUBLISH_RESOURCE } from './workflow-definition';

// The engine ships CommonJS and ESM builds; its type declarations are ESM-only, so the types are
// imported as ESM and the code is required as CommonJS (Jest and the CLI both run CommonJS).
const engine = (): typeof LocalStepFunctions => require('aws-local-stepfunctions');

export interface LocalWorkflowRunnerOptions {
  /** Lambda handlers by function name: what each `lambda:invoke` task's FunctionName runs. */
  handlers: Readonly<Record<string, LambdaHandler>>;
  /** For `aws-sdk:s3:listObjectsV2` tasks (the batch definition with `s3_prefix`). */
  s3?: S3Client;
  /** Called for every message an `sns:publish` task publishes (they are also on the outcome). */
  onNotification?(notification: Notification, executionArn: string): void;
  /** Lambda function timeout. Default 60 s. */
  functionTimeoutMs?: number;
  /**
   * Multiplies every Retry's IntervalSeconds (and MaxDelaySeconds) of the definition the engine
   * runs, keeping the backoff: 0.001 turns 1 s, 2 s, 4 s into 1, 2, 4 ms for tests. Default 1.
   */
  retryIntervalScale?: number;
  /** Record each execution's history (default true). */
  history?: boolean;
  stateMachineName?: string;
  region?: string;
}

const LOCAL_ACCOUNT = '000000000000';

type TaskHandler = (input: unknown) => Promise<unknown>;

/** Every Task state of a definition, nested Parallel branches and Map item processors included. */
function taskStates(machine: AslStateMachine, found = new Map<string, string>()): Map<string, string> {
  for (const [name, state] of Object.entries(machine.States) as Array<[string, AslState]>) {
    if (state.Type === 'Task') {
      const known = found.get(name);
      // The engine's local overrides are keyed by state name, across nesting levels.
      if (known !== undefined && known !== state.Resource) {
        throw new LocalRunnerError(`state "${name}" appears twice with different resources (${known}, ${state.Resource}); the local runner needs unique Task state names`);
      }
      found.set(name, state.Resource);
    } else if (state.Type === 'Parallel') {
      for (const branch of state.Branches) taskStates(branch, found);
    } else if (state.Type === 'Map') {
      taskStates(state.ItemProcessor, found);
    }
  }
  return found;
}

/** A copy of the definition with every Retry interval multiplied by `scale`. */
export function scaleRetryIntervals<T>(value: T, scale: number): T {
  if (Array.isArray(value)) return value.map((v) => scaleRetryIntervals(v, scale)) as T;
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'Retry' && Array.isArray(v)) {
      copy[key] = v.map((r: { IntervalSeconds?: number; MaxDelaySeconds?: number }) => ({
        ...r,
        IntervalSeconds: (r.IntervalSeconds ?? 1) * scale,
        ...(r.MaxDelaySeconds !== undefined ? { MaxDelaySeconds: r.MaxDelaySeconds * scale } : {}),
      }));
    } else {
      copy[key] = scaleRetryIntervals(v, scale);
    }
  }
  return copy as T;
}

type EngineEvent = {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; output?: unknown };
  index?: number;
  Error?: string;
  Cause?: unknown;
  retry?: { attempt: number };
};

function toHistoryEvent(event: EngineEvent): HistoryEvent {
  const history: HistoryEvent = { type: event.type, timestamp: event.timestamp };
  if (event.state) {
    history.stateName = event.state.name;
    history.stateType = event.state.type;
    if (event.type === 'StateExited') history.output = event.state.output;
  }
  if (event.index !== undefined) history.index = event.index;
  if (event.Error !== undefined) history.error = event.Error;
  if (event.Cause !== undefined) history.cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
  if (event.retry) history.retryAttempt = event.retry.attempt;
  return history;
}

/**
 * Runs an Amazon States Language definition locally on aws-local-stepfunctions — the very
 * definition deployed to AWS — with its Task states served in-process: `lambda:invoke` by the given
 * handlers (Lambda invoke integration semantics, see {@link createLambdaInvoker}), `sns:publish` by a
 * recorder, `aws-sdk:s3:listObjectsV2` by the given S3 client. Retry, Catch, Map, Parallel, Choice
 * and Fail are the engine's.
 */
export class LocalWorkflowRunner implements WorkflowExecutor {
  readonly stateMachineArn: string;
  private readonly machine: InstanceType<typeof LocalStepFunctions.StateMachine>;
  private readonly tasks: Map<string, string>;
  private readonly invokeLambda: TaskHandler;
  private readonly listObjects: TaskHandler;

  constructor(
    readonly definition: AslDefinition,
    private readonly options: LocalWorkflowRunnerOptions,
  ) {
    ensurePromiseWithResolvers();
    const region = options.region ?? 'us-east-1';
    this.stateMachineArn = `arn:aws:states:${region}:${LOCAL_ACCOUNT}:stateMachine:${options.stateMachineName ?? 'scones-workflow'}`;
    this.tasks = taskStates(definition);
    const supported = [LAMBDA_INVOKE_RESOURCE, SNS_PUBLISH_RESOURCE, S3_LIST_OBJECTS_V2_RESOURCE];
    for (const [name, resource] of this.tasks) {
      if (!supported.includes(resource)) throw new LocalRunnerError(`state "${name}": resource ${resource} has no local implementation (supported: ${supported.join(', ')})`);
    }
    const scale = options.retryIntervalScale ?? 1;
    if (!(scale >= 0 && Number.isFinite(scale))) throw new LocalRunnerError(`retryIntervalScale: expected a number >= 0, got ${scale}`);
    const runnable = scale === 1 ? definition : scaleRetryIntervals(definition, scale);
    try {
      // The engine validates the definition (asl-validator) before anything runs.
      this.machine = new (engine().StateMachine)(runnable as unknown as LocalStepFunctions.StateMachineDefinition, {
        validationOptions: { checkArn: true, checkPaths: true },
      });
    } catch (error) {
      throw new LocalRunnerError(`the definition cannot run: ${(error as Error).message}`);
    }
    this.invokeLambda = createLambdaInvoker({ handlers: options.handlers, timeoutMs: options.functionTimeoutMs, region });
    const s3 = options.s3;
    this.listObjects = s3
      ? createS3ObjectLister(s3)
      : async () => {
          throw new TaskFailure('States.Runtime', 'the local runner was given no S3 client for aws-sdk:s3:listObjectsV2 tasks');
        };
  }

  async execute(input: unknown, options: ExecuteOptions = {}): Promise<ExecutionOutcome> {
    const name = options.name ?? randomUUID();
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const notifications: Notification[] = [];
    const publish = createSnsPublisher((notification) => {
      notifications.push(notification);
      this.options.onNotification?.(notification, executionArn);
    });
    const handlerFor: Record<string, TaskHandler> = {
      [LAMBDA_INVOKE_RESOURCE]: this.invokeLambda,
      [SNS_PUBLISH_RESOURCE]: publish,
      [S3_LIST_OBJECTS_V2_RESOURCE]: this.listObjects,
    };
    const taskResourceLocalHandlers = Object.fromEntries([...this.tasks].map(([state, resource]) => [state, handlerFor[resource]]));
    const startDate = new Date();
    const started = performance.now();
    options.signal?.throwIfAborted();
    const run = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: taskResourceLocalHandlers as never },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/scones-local` },
        StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineArn.split(':').at(-1) },
      },
    });
    const onAbort = () => run.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const history: HistoryEvent[] = [];
    const keepHistory = this.options.history !== false;
    const recording =
      keepHistory || options.onEvent
        ? this.record(run.eventLogs as AsyncGenerator<EngineEvent>, (event) => {
            if (keepHistory) history.push(event);
            options.onEvent?.(event);
          })
        : Promise.resolve();

    const outcome = (fields: Pick<ExecutionOutcome, 'status' | 'output' | 'error' | 'cause'>): ExecutionOutcome => ({
      executionArn,
      name,
      input,
      ...fields,
      startDate: startDate.toISOString(),
      stopDate: new Date().toISOString(),
      durationMs: performance.now() - started,
      ...(this.options.history === false ? {} : { history }),
      notifications,
    });
    let result: ExecutionOutcome;
    try {
      result = outcome({ status: 'SUCCEEDED', output: await run.result });
    } catch (error) {
      const { ExecutionError, ExecutionAbortedError, ExecutionTimeoutError } = engine();
      if (error instanceof ExecutionAbortedError) result = outcome({ status: 'ABORTED' });
      else if (error instanceof ExecutionTimeoutError) result = outcome({ status: 'TIMED_OUT', error: 'States.Timeout', cause: 'the execution ran longer than the definition\'s TimeoutSeconds' });
      else if (error instanceof ExecutionError) {
        const failure = (error as Error & { cause?: { name?: string; message?: string } }).cause;
        result = outcome({ status: 'FAILED', error: failure?.name ?? 'States.Runtime', cause: failure?.message ?? error.message });
      } else throw error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    await recording;
    return result;
  }

  private async record(events: AsyncGenerator<EngineEvent>, onEvent: (event: HistoryEvent) => void): Promise<void> {
    for await (const event of events) onEvent(toHistoryEvent(event));
  }
}
