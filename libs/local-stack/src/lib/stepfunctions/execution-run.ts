import { TaskFailure } from '@scones/workflow';
import { engine, currentLane, runWithLanes, type EngineRun, type EngineStateMachine } from './engine';
import { ExecutionHistory, type ExecutionEnd, type HistoryEvent, type HistoryLane, type TaskDescription } from './execution-history';
import { invokeLambdaFunction, invokeLambdaIntegration } from './lambda-task';
import { runnableDefinition, type RunnableDefinition } from './runnable-definition';
import { publishSnsIntegration } from './sns-task';
import { classifyTaskResource, type TaskResource } from './task-resources';
import type { LambdaService } from '../lambda';
import type { SnsService } from '../sns/sns-service';

/** A definition ready to run: the engine's state machine and each Task state's resource. */
export interface CompiledDefinition {
  runnable: RunnableDefinition;
  machine: EngineStateMachine;
  /** By the engine's (unique) state name. */
  tasks: ReadonlyMap<string, TaskResource>;
}

/**
 * Prepares a checked definition for the engine (see {@link runnableDefinition}); the engine's own
 * validation is skipped, the definition having been checked at CreateStateMachine.
 */
export function compileDefinition(definition: Record<string, unknown>, options: { retryIntervalScale?: number } = {}): CompiledDefinition {
  const runnable = runnableDefinition(definition, options);
  const tasks = new Map<string, TaskResource>();
  for (const [engineName, { state }] of runnable.states) {
    if (state.Type !== 'Task') continue;
    const resource = classifyTaskResource(state.Resource as string);
    if ('unsupported' in resource) throw new Error(`state ${engineName}: ${resource.unsupported}`);
    tasks.set(engineName, resource);
  }
  const machine = new (engine().StateMachine)(runnable.definition as never, { validationOptions: { noValidate: true } });
  return { runnable, machine, tasks };
}

/** The services Task states call, looked up when a task runs. */
export interface TaskServices {
  lambda(): LambdaService | undefined;
  sns(): SnsService | undefined;
  /** `aws-sdk:s3:listObjectsV2` against the stack's S3. */
  listObjectsV2(parameters: unknown): Promise<unknown>;
}

export interface ExecutionIdentity {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  stateMachineName: string;
  roleArn: string;
  region: string;
  accountId: string;
}

/** One execution on the engine, with its history as Step Functions reports it. */
export interface ExecutionRun {
  readonly history: ExecutionHistory;
  /** Resolves when the execution has ended (never rejects). */
  readonly ended: Promise<ExecutionEnd>;
  /** StopExecution: aborts the execution with the given error and cause. */
  stop(request: { error?: string; cause?: string }): void;
}

/**
 * Starts an execution: the engine runs the definition (Retry, Catch, Map, Parallel, Choice,
 * paths and intrinsic functions are the engine's), each Task state calls the stack's service for
 * its resource, and every event goes to the history as it happens.
 */
export function startExecutionRun(
  compiled: CompiledDefinition,
  identity: ExecutionIdentity,
  input: unknown,
  services: TaskServices,
  onEvent?: (event: HistoryEvent) => void,
): ExecutionRun {
  const context = {
    Execution: { Id: identity.executionArn, Name: identity.name, RoleArn: identity.roleArn, RedriveCount: 0 },
    StateMachine: { Id: identity.stateMachineArn, Name: identity.stateMachineName },
  };
  const history = new ExecutionHistory({ states: compiled.runnable.states, roleArn: identity.roleArn, context, onEvent });
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [engineName, resource] of compiled.tasks) {
    const entry = compiled.runnable.states.get(engineName);
    if (entry) handlers[engineName] = taskHandler(engineName, entry.name, resource, entry.declared, identity, services, history);
  }
  const run: EngineRun = runWithLanes(compiled.machine, input, { overrides: { taskResourceLocalHandlers: handlers as never }, context }, history);
  // Reading the root run's log is what hands its events to the history (see runWithLanes).
  const reading = (async () => {
    for await (const event of run.eventLogs) void event;
  })();
  const ended = (async (): Promise<ExecutionEnd> => {
    let failure: unknown;
    try {
      await run.result;
    } catch (error) {
      failure = error;
    }
    await reading;
    // Aborted iterations deliver their last events shortly after the execution's end.
    await history.settled(5000);
    history.finish();
    // The engine reports every end as an event; this covers an engine that threw without one.
    return history.end ?? { status: 'FAILED', error: 'States.Runtime', cause: `the engine stopped without ending the execution: ${(failure as Error)?.message ?? 'no error'}`, stopDate: Date.now() };
  })();
  return {
    history,
    ended,
    stop(request) {
      history.stopRequest = request;
      run.abort();
    },
  };
}

function taskHandler(
  engineName: string,
  stateName: string,
  resource: TaskResource,
  declared: { timeoutSeconds?: number; heartbeatSeconds?: number },
  identity: ExecutionIdentity,
  services: TaskServices,
  history: ExecutionHistory,
): (input: unknown) => Promise<unknown> {
  const description: TaskDescription = resource.kind === 'lambda-function' ? { kind: 'function', arn: resource.arn } : { kind: 'integration', resourceType: resource.resourceType, resource: resource.resource, region: identity.region };
  const lambdaContext = () => ({ lambda: services.lambda(), region: identity.region, accountId: identity.accountId, stateName });
  const perform = (input: unknown): Promise<unknown> => {
    switch (resource.kind) {
      case 'lambda-invoke':
        return invokeLambdaIntegration(input, lambdaContext());
      case 'lambda-function':
        return invokeLambdaFunction(resource.arn, input, lambdaContext());
      case 'sns-publish':
        return publishSnsIntegration(input, services.sns());
      case 's3-list-objects-v2':
        return services.listObjectsV2(input);
    }
  };
  return async (input) => {
    const lane = currentLane<HistoryLane>();
    if (!lane) return perform(input);
    await history.taskCalled(lane, engineName);
    // An iteration stopped with its Map, or an execution stopped: the service is not called.
    if (history.isStopped(lane)) throw new TaskFailure('States.Runtime', `${stateName}: the execution (or its Map iteration) was stopped`, { terminal: true });
    const attempt = history.taskStarted(lane, description, input, declared);
    try {
      const result = await perform(input);
      history.taskSucceeded(attempt, result);
      return result;
    } catch (error) {
      const failure = error instanceof TaskFailure ? error : new TaskFailure('States.TaskFailed', `${stateName}: ${(error as Error)?.message ?? String(error)}`);
      history.taskFailed(attempt, failure.name, failure.message);
      throw failure;
    }
  };
}
