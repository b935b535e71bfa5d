import { createHash, randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { createS3Client } from '@scones/local-cloud';
import { createS3ObjectLister } from '@scones/workflow';
import { AwsError } from '@scones/stack-core';
import type { RequestContext } from '@scones/stack-core';
import type { LambdaService } from '../lambda';
import { awsJsonHandler } from '@scones/stack-core';
import { parseInput } from '@scones/stack-core';
import type { StackContext, StackService } from '@scones/stack-core';
import type { SnsService } from '../sns/sns-service';
import { JsonStore } from '@scones/stack-core';
import { checkDefinition } from './definition-check';
import { hasControlCharacters } from './text';
import type { ExecutionEnd, ExecutionStatus, HistoryEvent } from './execution-history';
import { compileDefinition, startExecutionRun, type CompiledDefinition, type ExecutionRun, type TaskServices } from './execution-run';

export interface StepFunctionsServiceOptions {
  /**
   * Multiplies every Retry interval of the definitions the engine runs (0.001 turns 1 s, 2 s, 4 s
   * into 1, 2, 4 ms: tests). The stored definitions keep theirs. Default 1: real time.
   */
  retryIntervalScale?: number;
}

/** The Step Functions service, with what other parts of the stack and the CLI read in-process. */
export interface StepFunctionsService extends StackService {
  /** Resolves when the execution has ended (standard executions started on this stack). */
  waitForExecution(executionArn: string): Promise<void>;
  status(): Promise<{ stateMachines: number; executions: Partial<Record<ExecutionStatus, number>> }>;
}

interface StateMachineRecord {
  stateMachineArn: string;
  name: string;
  type: 'STANDARD' | 'EXPRESS';
  definition: string;
  roleArn: string;
  /** Epoch ms. */
  creationDate: number;
  updateDate?: number;
  revisionId: string;
  loggingConfiguration: Record<string, unknown>;
  tracingConfiguration: Record<string, unknown>;
  encryptionConfiguration?: Record<string, unknown>;
  tags?: Array<{ key?: string; value?: string }>;
}

interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  /** Epoch ms. */
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  traceHeader?: string;
}

/** What executions RUNNING when the stack stopped (or died) end as: stopped from outside. */
export const STACK_STOPPED = {
  error: 'Scones.StackStopped',
  cause: 'The local stack stopped (scones down, or its process ended) while this execution was running; executions do not resume when the stack starts again.',
};

const NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):stateMachine:([^:]+)$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):(execution|express):([^:]+):([^:]+)(?::[^:]+)?$/;
const MAX_INPUT_BYTES = 256 * 1024;
const HISTORY_FLUSH_MS = 100;
const DEFAULT_PAGE = 100;

const seconds = (ms: number) => ms / 1000;
const keyOf = (arn: string) => createHash('sha256').update(arn).digest('hex').slice(0, 40);

const loggingSchema = z
  .object({ level: z.enum(['ALL', 'ERROR', 'FATAL', 'OFF']).optional(), includeExecutionData: z.boolean().optional(), destinations: z.array(z.unknown()).optional() })
  .optional();
const tracingSchema = z.object({ enabled: z.boolean().optional() }).optional();
const encryptionSchema = z.object({ type: z.literal('AWS_OWNED_KEY'), kmsKeyId: z.undefined().optional() }, { message: 'the local stack supports only {"type": "AWS_OWNED_KEY"}' }).loose().optional();
const pageSchema = { maxResults: z.number().int().min(0).max(1000).optional(), nextToken: z.string().min(1).max(1024).optional() };

/**
 * Step Functions on the local stack (JSON 1.0, `AWSStepFunctions.`): state machines and their
 * executions, run on aws-local-stepfunctions — the engine of the project's local runner — with
 * Task states served by the stack's Lambda, SNS and S3. State machines, executions and histories
 * live in `<dataDir>/stepfunctions/` and survive down/up; an execution RUNNING when the stack
 * stopped is ABORTED with {@link STACK_STOPPED}'s error and cause.
 */
export function createStepFunctionsService(stack: StackContext, options: StepFunctionsServiceOptions = {}): StepFunctionsService {
  const root = join(stack.dataDir, 'stepfunctions');
  const machineStore = new JsonStore<StateMachineRecord>(join(root, 'state-machines'));
  const executionStore = new JsonStore<ExecutionRecord>(join(root, 'executions'));
  const historyFile = (executionArn: string) => join(root, 'histories', `${keyOf(executionArn)}.jsonl`);
  const machines = new Map<string, StateMachineRecord>();
  const executions = new Map<string, ExecutionRecord>();
  const running = new Map<string, { run: ExecutionRun; flushed: Promise<void> }>();
  const compiled = new Map<string, { revisionId: string; compiled: CompiledDefinition }>();
  const historyCache = new Map<string, HistoryEvent[]>();
  const expressRuns = new Set<ExecutionRun>();
  // The services Task states can need; a definition needing one the stack runs without is refused.
  const services = () => new Set((['lambda', 'sns', 's3'] as const).filter((id) => stack.service(id) !== undefined));
  let listObjects: ((parameters: unknown) => Promise<unknown>) | undefined;
  const taskServices: TaskServices = {
    lambda: () => stack.service<LambdaService>('lambda'),
    sns: () => stack.service<SnsService>('sns'),
    listObjectsV2: (parameters) => {
      listObjects ??= createS3ObjectLister(createS3Client({ kind: 'local', s3Endpoint: stack.url, region: stack.region }));
      return listObjects(parameters);
    },
  };

  const regionOf = (ctx: RequestContext) => {
    if (!REGION.test(ctx.region)) throw new AwsError('ValidationException', `region ${JSON.stringify(ctx.region)} (from the request's signing scope) is not a region name`, 400);
    return ctx.region;
  };
  const machineOf = (arn: string): StateMachineRecord => {
    if (!STATE_MACHINE_ARN.test(arn)) {
      if (arn.startsWith('arn:') && arn.split(':')[5] === 'stateMachine') throw new AwsError('ValidationException', `the local stack does not support state machine versions or aliases: ${arn}`, 400);
      throw new AwsError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${arn}'`, 400);
    }
    const machine = machines.get(arn);
    if (!machine) throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`, 400);
    return machine;
  };
  const executionOf = (arn: string): ExecutionRecord => {
    const match = EXECUTION_ARN.exec(arn);
    if (!match) throw new AwsError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${arn}'`, 400);
    if (match[3] === 'express') throw new AwsError('InvalidArn', `Invalid Arn: 'Express executions are not recorded; their result is StartSyncExecution's answer: ${arn}'`, 400);
    const execution = executions.get(arn);
    if (!execution) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`, 400);
    return execution;
  };
  const checkName = (name: string, what: string) => {
    if (!NAME.test(name) || hasControlCharacters(name)) throw new AwsError('InvalidName', `Invalid Name: '${name}' (${what} names are 1-80 characters without white space, brackets, wildcards, control characters or any of " # % \\ ^ | ~ \` $ & , ; : /)`, 400);
  };
  const checkRole = (roleArn: string) => {
    if (!ROLE_ARN.test(roleArn)) throw new AwsError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${roleArn}' (roleArn must be an IAM role ARN, arn:aws:iam::<account>:role/<name>)`, 400);
  };
  const checkedDefinition = (text: string) => checkDefinition(text, { services: services() });
  const compiledFor = (machine: StateMachineRecord): CompiledDefinition => {
    const cached = compiled.get(machine.stateMachineArn);
    if (cached?.revisionId === machine.revisionId) return cached.compiled;
    const fresh = compileDefinition(checkedDefinition(machine.definition).definition, { retryIntervalScale: options.retryIntervalScale });
    compiled.set(machine.stateMachineArn, { revisionId: machine.revisionId, compiled: fresh });
    return fresh;
  };
  const parseExecutionInput = (input: string | undefined): { text: string; value: unknown } => {
    const text = input ?? '{}';
    if (Buffer.byteLength(text) > MAX_INPUT_BYTES) throw new AwsError('InvalidExecutionInput', `Invalid State Machine Execution Input: the input is ${Buffer.byteLength(text)} bytes; the limit is ${MAX_INPUT_BYTES}`, 400);
    try {
      return { text, value: JSON.parse(text) };
    } catch (error) {
      throw new AwsError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(error as Error).message}'`, 400);
    }
  };
  const paginate = <T>(items: T[], input: { maxResults?: number; nextToken?: string }, key: (item: T) => string): { items: T[]; nextToken?: string } => {
    let start = 0;
    if (input.nextToken) {
      const after = Buffer.from(input.nextToken, 'base64url').toString('utf8');
      start = items.findIndex((item) => key(item) === after) + 1;
      if (start === 0) throw new AwsError('InvalidToken', `Invalid Token: '${input.nextToken}'`, 400);
    }
    const size = input.maxResults || DEFAULT_PAGE;
    const slice = items.slice(start, start + size);
    return { items: slice, ...(start + size < items.length ? { nextToken: Buffer.from(key(slice[slice.length - 1])).toString('base64url') } : {}) };
  };

  /**
   * Appends history events to the execution's JSON-lines file, at most every
   * {@link HISTORY_FLUSH_MS} (a crash loses at most that much of a running execution's history).
   */
  function historyWriter(executionArn: string) {
    const file = historyFile(executionArn);
    let buffer: string[] = [];
    let chain: Promise<void> = Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      if (buffer.length === 0) return chain;
      const lines = buffer.join('');
      buffer = [];
      chain = chain.then(() => appendFile(file, lines)).catch((error: unknown) => stack.logger.error('cannot write execution history', { executionArn, file, error }));
      return chain;
    };
    return {
      add(event: HistoryEvent) {
        buffer.push(`${JSON.stringify(event)}\n`);
        timer ??= setTimeout(flush, HISTORY_FLUSH_MS);
      },
      flush,
    };
  }

  async function readHistory(executionArn: string): Promise<HistoryEvent[]> {
    const live = running.get(executionArn);
    if (live) return live.run.history.events;
    const cached = historyCache.get(executionArn);
    if (cached) return cached;
    let text = '';
    try {
      text = await readFile(historyFile(executionArn), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const events: HistoryEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        events.push(JSON.parse(line) as HistoryEvent);
      } catch {
        // The last line of a history cut short by a crash.
      }
    }
    historyCache.set(executionArn, events);
    // A few recent histories stay parsed for the pages of GetExecutionHistory that follow.
    if (historyCache.size > 8) historyCache.delete(historyCache.keys().next().value as string);
    return events;
  }

  function launch(machine: StateMachineRecord, record: ExecutionRecord, input: unknown, written: Promise<void>): ExecutionRun {
    const writer = historyWriter(record.executionArn);
    const run = startExecutionRun(
      compiledFor(machine),
      { executionArn: record.executionArn, name: record.name, stateMachineArn: machine.stateMachineArn, stateMachineName: machine.name, roleArn: machine.roleArn, region: regionFromArn(machine.stateMachineArn), accountId: stack.accountId },
      input,
      taskServices,
      (event) => writer.add(event),
    );
    const flushed = run.ended.then(async (end) => {
      // DescribeExecution answers the end at once; the history is served from memory until it is on disk.
      Object.assign(record, endFields(end));
      // The RUNNING record must not land after the final one.
      await written.catch(() => undefined);
      await writer.flush();
      await executionStore.put(keyOf(record.executionArn), record);
      running.delete(record.executionArn);
      stack.logger.info('execution ended', { executionArn: record.executionArn, status: end.status, ...(end.error ? { error: end.error } : {}) });
    });
    running.set(record.executionArn, { run, flushed });
    return run;
  }

  const describeMachine = (m: StateMachineRecord) => ({
    stateMachineArn: m.stateMachineArn,
    name: m.name,
    status: 'ACTIVE',
    definition: m.definition,
    roleArn: m.roleArn,
    type: m.type,
    creationDate: seconds(m.creationDate),
    loggingConfiguration: m.loggingConfiguration,
    tracingConfiguration: m.tracingConfiguration,
    revisionId: m.revisionId,
    ...(m.encryptionConfiguration ? { encryptionConfiguration: m.encryptionConfiguration } : {}),
  });
  const listItem = (e: ExecutionRecord) => ({
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: seconds(e.startDate),
    ...(e.stopDate !== undefined ? { stopDate: seconds(e.stopDate) } : {}),
  });

  const createSchema = z.object({
    name: z.string(),
    definition: z.string(),
    roleArn: z.string(),
    type: z.enum(['STANDARD', 'EXPRESS']).optional(),
    loggingConfiguration: loggingSchema,
    tracingConfiguration: tracingSchema,
    encryptionConfiguration: encryptionSchema,
    tags: z.array(z.object({ key: z.string().optional(), value: z.string().optional() })).optional(),
    publish: z.literal(false, { message: 'state machine versions (publish: true) are not supported by the local stack' }).optional(),
    versionDescription: z.undefined({ message: 'state machine versions are not supported by the local stack' }).optional(),
  });
  const updateSchema = z.object({
    stateMachineArn: z.string(),
    definition: z.string().optional(),
    roleArn: z.string().optional(),
    loggingConfiguration: loggingSchema,
    tracingConfiguration: tracingSchema,
    encryptionConfiguration: encryptionSchema,
    publish: z.literal(false, { message: 'state machine versions (publish: true) are not supported by the local stack' }).optional(),
    versionDescription: z.undefined({ message: 'state machine versions are not supported by the local stack' }).optional(),
  });
  const startSchema = z.object({ stateMachineArn: z.string(), name: z.string().optional(), input: z.string().optional(), traceHeader: z.string().max(256).optional() });

  const handle = awsJsonHandler({
    serviceName: 'Step Functions',
    targetPrefix: 'AWSStepFunctions',
    protocol: 'awsJson1_0',
    operations: {
      CreateStateMachine: async (raw, ctx) => {
        const input = parseInput(createSchema, raw, 'CreateStateMachine');
        checkName(input.name, 'state machine');
        checkRole(input.roleArn);
        checkedDefinition(input.definition);
        const arn = `arn:aws:states:${regionOf(ctx)}:${stack.accountId}:stateMachine:${input.name}`;
        const type = input.type ?? 'STANDARD';
        const loggingConfiguration = input.loggingConfiguration ?? { level: 'OFF', includeExecutionData: false };
        const tracingConfiguration = input.tracingConfiguration ?? { enabled: false };
        const existing = machines.get(arn);
        if (existing) {
          // Idempotent for the same definition, role and type, as on AWS.
          if (existing.definition === input.definition && existing.roleArn === input.roleArn && existing.type === type) return { stateMachineArn: arn, creationDate: seconds(existing.creationDate) };
          throw new AwsError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`, 400);
        }
        const record: StateMachineRecord = {
          stateMachineArn: arn,
          name: input.name,
          type,
          definition: input.definition,
          roleArn: input.roleArn,
          creationDate: Date.now(),
          revisionId: randomUUID(),
          loggingConfiguration,
          tracingConfiguration,
          ...(input.encryptionConfiguration ? { encryptionConfiguration: input.encryptionConfiguration } : {}),
          ...(input.tags ? { tags: input.tags } : {}),
        };
        await machineStore.put(keyOf(arn), record);
        machines.set(arn, record);
        stack.logger.info('state machine created', { stateMachineArn: arn, type });
        return { stateMachineArn: arn, creationDate: seconds(record.creationDate) };
      },
      UpdateStateMachine: async (raw) => {
        const input = parseInput(updateSchema, raw, 'UpdateStateMachine');
        const machine = machineOf(input.stateMachineArn);
        if (input.definition === undefined && input.roleArn === undefined && input.loggingConfiguration === undefined && input.tracingConfiguration === undefined && input.encryptionConfiguration === undefined) {
          throw new AwsError('MissingRequiredParameter', 'Either the definition, the roleArn, the loggingConfiguration, the tracingConfiguration or the encryptionConfiguration must be specified', 400);
        }
        if (input.definition !== undefined) checkedDefinition(input.definition);
        if (input.roleArn !== undefined) checkRole(input.roleArn);
        const updateDate = Date.now();
        const updated: StateMachineRecord = {
          ...machine,
          ...(input.definition !== undefined ? { definition: input.definition } : {}),
          ...(input.roleArn !== undefined ? { roleArn: input.roleArn } : {}),
          ...(input.loggingConfiguration !== undefined ? { loggingConfiguration: input.loggingConfiguration } : {}),
          ...(input.tracingConfiguration !== undefined ? { tracingConfiguration: input.tracingConfiguration } : {}),
          ...(input.encryptionConfiguration !== undefined ? { encryptionConfiguration: input.encryptionConfiguration } : {}),
          updateDate,
          revisionId: randomUUID(),
        };
        await machineStore.put(keyOf(machine.stateMachineArn), updated);
        machines.set(machine.stateMachineArn, updated);
        stack.logger.info('state machine updated', { stateMachineArn: machine.stateMachineArn, revisionId: updated.revisionId });
        // Running executions go on with the definition they started with.
        return { updateDate: seconds(updateDate), revisionId: updated.revisionId };
      },
      DescribeStateMachine: (raw) => {
        const input = parseInput(z.object({ stateMachineArn: z.string(), includedData: z.enum(['ALL_DATA', 'METADATA_ONLY']).optional() }), raw, 'DescribeStateMachine');
        return describeMachine(machineOf(input.stateMachineArn));
      },
      ListStateMachines: (raw) => {
        const input = parseInput(z.object(pageSchema), raw, 'ListStateMachines');
        const sorted = [...machines.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.stateMachineArn < b.stateMachineArn ? -1 : 1));
        const { items, nextToken } = paginate(sorted, input, (m) => m.stateMachineArn);
        return { stateMachines: items.map((m) => ({ stateMachineArn: m.stateMachineArn, name: m.name, type: m.type, creationDate: seconds(m.creationDate) })), ...(nextToken ? { nextToken } : {}) };
      },
      DeleteStateMachine: async (raw) => {
        const input = parseInput(z.object({ stateMachineArn: z.string() }), raw, 'DeleteStateMachine');
        const machine = machines.get(input.stateMachineArn);
        if (!machine) {
          // Deleting what is already gone succeeds, as on AWS; an invalid ARN is still an error.
          if (!STATE_MACHINE_ARN.test(input.stateMachineArn)) machineOf(input.stateMachineArn);
          return {};
        }
        machines.delete(machine.stateMachineArn);
        compiled.delete(machine.stateMachineArn);
        await machineStore.delete(keyOf(machine.stateMachineArn));
        // Its executions go with it: running ones are stopped first.
        const own = [...executions.values()].filter((e) => e.stateMachineArn === machine.stateMachineArn);
        for (const e of own) running.get(e.executionArn)?.run.stop({ error: 'States.Aborted', cause: 'The state machine was deleted.' });
        await Promise.all(own.map((e) => running.get(e.executionArn)?.flushed));
        for (const e of own) {
          executions.delete(e.executionArn);
          historyCache.delete(e.executionArn);
          await executionStore.delete(keyOf(e.executionArn));
          await rm(historyFile(e.executionArn), { force: true });
        }
        stack.logger.info('state machine deleted', { stateMachineArn: machine.stateMachineArn, executions: own.length });
        return {};
      },
      StartExecution: async (raw) => {
        const input = parseInput(startSchema, raw, 'StartExecution');
        const machine = machineOf(input.stateMachineArn);
        const name = input.name ?? randomUUID();
        checkName(name, 'execution');
        const { text, value } = parseExecutionInput(input.input);
        const region = regionFromArn(machine.stateMachineArn);
        if (machine.type === 'EXPRESS') {
          // Asynchronous Express: run and forget, as AWS keeps no record of it (only logs).
          const executionArn = `arn:aws:states:${region}:${stack.accountId}:express:${machine.name}:${name}:${randomUUID()}`;
          const run = express(startExecutionRun(compiledFor(machine), identity(machine, executionArn, name), value, taskServices));
          void run.ended.then((end) => stack.logger.info('express execution ended', { executionArn, status: end.status, ...(end.error ? { error: end.error } : {}) }));
          return { executionArn, startDate: seconds(Date.now()) };
        }
        const executionArn = `arn:aws:states:${region}:${stack.accountId}:execution:${machine.name}:${name}`;
        const existing = executions.get(executionArn);
        if (existing) {
          // Idempotent while it runs with the same input; otherwise the name is taken.
          if (existing.status === 'RUNNING' && existing.input === text) return { executionArn, startDate: seconds(existing.startDate) };
          throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`, 400);
        }
        const record: ExecutionRecord = { executionArn, stateMachineArn: machine.stateMachineArn, name, status: 'RUNNING', startDate: Date.now(), input: text, ...(input.traceHeader ? { traceHeader: input.traceHeader } : {}) };
        executions.set(executionArn, record);
        // The execution runs while its record is written; StartExecution answers once it is on disk.
        const written = executionStore.put(keyOf(executionArn), { ...record });
        launch(machine, record, value, written);
        await written;
        stack.logger.debug('execution started', { executionArn });
        return { executionArn, startDate: seconds(record.startDate) };
      },
      StartSyncExecution: async (raw) => {
        const input = parseInput(startSchema.extend({ includedData: z.enum(['ALL_DATA', 'METADATA_ONLY']).optional() }), raw, 'StartSyncExecution');
        const machine = machineOf(input.stateMachineArn);
        if (machine.type !== 'EXPRESS') throw new AwsError('StateMachineTypeNotSupported', `This operation is not supported by this type of state machine: ${machine.stateMachineArn} is ${machine.type}; StartSyncExecution runs EXPRESS state machines`, 400);
        const name = input.name ?? randomUUID();
        checkName(name, 'execution');
        const { text, value } = parseExecutionInput(input.input);
        const executionArn = `arn:aws:states:${regionFromArn(machine.stateMachineArn)}:${stack.accountId}:express:${machine.name}:${name}:${randomUUID()}`;
        const startDate = Date.now();
        const end = await express(startExecutionRun(compiledFor(machine), identity(machine, executionArn, name), value, taskServices)).ended;
        // A synchronous execution that was stopped (the stack closing) reports FAILED: SyncExecutionStatus has no ABORTED.
        const status = end.status === 'ABORTED' ? 'FAILED' : end.status;
        return {
          executionArn,
          stateMachineArn: machine.stateMachineArn,
          name,
          startDate: seconds(startDate),
          stopDate: seconds(end.stopDate),
          status,
          ...(end.error !== undefined ? { error: end.error } : {}),
          ...(end.cause !== undefined ? { cause: end.cause } : {}),
          input: text,
          inputDetails: { included: true },
          ...(end.output !== undefined ? { output: end.output, outputDetails: { included: true } } : {}),
          ...(input.traceHeader ? { traceHeader: input.traceHeader } : {}),
          billingDetails: { billedMemoryUsedInMB: 64, billedDurationInMilliseconds: Math.max(100, Math.ceil((end.stopDate - startDate) / 100) * 100) },
        };
      },
      DescribeExecution: (raw) => {
        const input = parseInput(z.object({ executionArn: z.string(), includedData: z.enum(['ALL_DATA', 'METADATA_ONLY']).optional() }), raw, 'DescribeExecution');
        const e = executionOf(input.executionArn);
        const data = input.includedData !== 'METADATA_ONLY';
        return {
          ...listItem(e),
          ...(data ? { input: e.input } : {}),
          inputDetails: { included: data },
          ...(e.output !== undefined && data ? { output: e.output } : {}),
          ...(e.output !== undefined ? { outputDetails: { included: data } } : {}),
          ...(e.error !== undefined ? { error: e.error } : {}),
          ...(e.cause !== undefined ? { cause: e.cause } : {}),
          ...(e.traceHeader ? { traceHeader: e.traceHeader } : {}),
          redriveCount: 0,
          ...(e.status !== 'RUNNING' && e.status !== 'SUCCEEDED' ? { redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'The local stack does not redrive executions.' } : {}),
        };
      },
      GetExecutionHistory: async (raw) => {
        const input = parseInput(z.object({ executionArn: z.string(), reverseOrder: z.boolean().optional(), includeExecutionData: z.boolean().optional(), ...pageSchema }), raw, 'GetExecutionHistory');
        executionOf(input.executionArn);
        const events = await readHistory(input.executionArn);
        const size = input.maxResults || DEFAULT_PAGE;
        let start = 0;
        if (input.nextToken) {
          const token = decodeToken(input.nextToken);
          if (!token || token.arn !== keyOf(input.executionArn) || token.reverse !== (input.reverseOrder === true)) throw new AwsError('InvalidToken', `Invalid Token: '${input.nextToken}'`, 400);
          start = token.next;
        }
        const ordered = input.reverseOrder ? [...events].reverse() : events;
        const page = ordered.slice(start, start + size).map((event) => (input.includeExecutionData === false ? withoutData(event) : event));
        const more = start + size < ordered.length;
        return { events: page, ...(more ? { nextToken: Buffer.from(JSON.stringify({ arn: keyOf(input.executionArn), next: start + size, reverse: input.reverseOrder === true })).toString('base64url') } : {}) };
      },
      ListExecutions: (raw) => {
        const input = parseInput(
          z.object({ stateMachineArn: z.string().optional(), statusFilter: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']).optional(), mapRunArn: z.undefined({ message: 'Map Runs (distributed Map) are not supported by the local stack' }).optional(), redriveFilter: z.enum(['REDRIVEN', 'NOT_REDRIVEN']).optional(), ...pageSchema }),
          raw,
          'ListExecutions',
        );
        if (!input.stateMachineArn) throw new AwsError('ValidationException', 'ListExecutions: stateMachineArn is required', 400);
        const machine = machineOf(input.stateMachineArn);
        if (machine.type === 'EXPRESS') throw new AwsError('StateMachineTypeNotSupported', 'This operation is not supported by this type of state machine: EXPRESS executions are not recorded', 400);
        const own = [...executions.values()]
          .filter((e) => e.stateMachineArn === machine.stateMachineArn && (!input.statusFilter || e.status === input.statusFilter) && input.redriveFilter !== 'REDRIVEN')
          .sort((a, b) => b.startDate - a.startDate || (a.executionArn < b.executionArn ? -1 : 1));
        const { items, nextToken } = paginate(own, input, (e) => e.executionArn);
        return { executions: items.map(listItem), ...(nextToken ? { nextToken } : {}) };
      },
      StopExecution: async (raw) => {
        const input = parseInput(z.object({ executionArn: z.string(), error: z.string().max(256).optional(), cause: z.string().max(32768).optional() }), raw, 'StopExecution');
        const e = executionOf(input.executionArn);
        const live = running.get(e.executionArn);
        if (live) {
          live.run.stop({ ...(input.error !== undefined ? { error: input.error } : {}), ...(input.cause !== undefined ? { cause: input.cause } : {}) });
          await live.flushed;
        }
        return { stopDate: seconds(e.stopDate ?? Date.now()) };
      },
    },
  });

  /** Keeps an Express run (unrecorded) until it ends, so closing the stack can stop it. */
  function express(run: ExecutionRun): ExecutionRun {
    expressRuns.add(run);
    void run.ended.finally(() => expressRuns.delete(run));
    return run;
  }

  function identity(machine: StateMachineRecord, executionArn: string, name: string) {
    return { executionArn, name, stateMachineArn: machine.stateMachineArn, stateMachineName: machine.name, roleArn: machine.roleArn, region: regionFromArn(machine.stateMachineArn), accountId: stack.accountId };
  }

  return {
    id: 'states',
    handle,
    async start() {
      await mkdir(join(root, 'histories'), { recursive: true });
      for (const { value } of await machineStore.list()) machines.set(value.stateMachineArn, value);
      for (const { value } of await executionStore.list()) {
        executions.set(value.executionArn, value);
        if (value.status === 'RUNNING') await abortLostExecution(value);
      }
      stack.logger.info('step functions restored', { stateMachines: machines.size, executions: executions.size });
    },
    async close() {
      const live = [...running.values()];
      for (const { run } of live) run.stop(STACK_STOPPED);
      for (const run of expressRuns) run.stop(STACK_STOPPED);
      await Promise.all([...live.map((r) => r.flushed), ...[...expressRuns].map((run) => run.ended)]);
    },
    async status() {
      const counts: Partial<Record<ExecutionStatus, number>> = {};
      for (const e of executions.values()) counts[e.status] = (counts[e.status] ?? 0) + 1;
      return { stateMachines: machines.size, executions: counts };
    },
    async waitForExecution(executionArn) {
      await running.get(executionArn)?.flushed;
    },
  };

  /** An execution the stack was running when it died: ABORTED, with the event that says why. */
  async function abortLostExecution(record: ExecutionRecord): Promise<void> {
    const events = await readHistory(record.executionArn);
    historyCache.delete(record.executionArn);
    const stopDate = events.length > 0 ? Math.round(events[events.length - 1].timestamp * 1000) : record.startDate;
    const event: HistoryEvent = { timestamp: seconds(stopDate), type: 'ExecutionAborted', id: events.length + 1, previousEventId: events.length, executionAbortedEventDetails: { ...STACK_STOPPED } };
    await mkdir(join(root, 'histories'), { recursive: true });
    await appendFile(historyFile(record.executionArn), `${JSON.stringify(event)}\n`);
    Object.assign(record, { status: 'ABORTED', stopDate, ...STACK_STOPPED });
    await executionStore.put(keyOf(record.executionArn), record);
    stack.logger.warn('execution was running when the stack stopped; marked ABORTED', { executionArn: record.executionArn });
  }
}

function endFields(end: ExecutionEnd): Partial<ExecutionRecord> {
  return {
    status: end.status,
    stopDate: end.stopDate,
    ...(end.output !== undefined ? { output: end.output } : {}),
    ...(end.error !== undefined ? { error: end.error } : {}),
    ...(end.cause !== undefined ? { cause: end.cause } : {}),
  };
}

function regionFromArn(arn: string): string {
  return arn.split(':')[3];
}

function decodeToken(token: string): { arn: string; next: number; reverse: boolean } | undefined {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { arn?: unknown; next?: unknown; reverse?: unknown };
    if (typeof value.arn !== 'string' || typeof value.next !== 'number' || !Number.isInteger(value.next) || value.next < 0 || typeof value.reverse !== 'boolean') return undefined;
    return { arn: value.arn, next: value.next, reverse: value.reverse };
  } catch {
    return undefined;
  }
}

/** `includeExecutionData: false`: the events without their input, output and parameters. */
function withoutData(event: HistoryEvent): HistoryEvent {
  const copy: HistoryEvent = { ...event };
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || value === null || typeof value !== 'object') continue;
    const details = { ...(value as Record<string, unknown>) };
    delete details.input;
    delete details.output;
    delete details.parameters;
    copy[key] = details;
  }
  return copy;
}
