import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type FunctionConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { CreateStateMachineCommand, ListStateMachinesCommand, UpdateStateMachineCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import { zipSync } from 'fflate';
import { LambdaBundleError, WorkflowLibraryError } from '../errors';
import { WORKFLOW_FUNCTION_SETTINGS, WORKFLOW_LAMBDA_RUNTIME, type WorkflowResourceNames } from './resource-names';
import { buildBatchWorkflowDefinition, buildWorkflowDefinition, type WorkflowFunctions } from './workflow-definition';

export interface WorkflowInstallClients {
  lambda: LambdaClient;
  sfn: SFNClient;
  sns: SNSClient;
}

export interface InstallWorkflowOptions {
  names: WorkflowResourceNames;
  /** Each function's bundle (`dist/apps/<app>/main.js`; its `.map` beside it goes along). */
  bundles: Readonly<Record<keyof WorkflowFunctions, string>>;
  /** The endpoint classify invokes (ENDPOINT_NAME) and the filter's THRESHOLD. */
  endpointName: string;
  threshold: number;
  /** Any well-formed role ARN on the local stack. */
  roleArn: string;
  /** Of the batch definition's Map state. */
  maxConcurrency?: number;
  signal?: AbortSignal;
  onProgress?(message: string): void;
}

export interface InstalledWorkflow {
  functionArns: WorkflowFunctions;
  topicArn: string;
  stateMachineArns: { single: string; batch: string };
}

/**
 * Puts the project's workflow on a Lambda + SNS + Step Functions API — the local stack — under the
 * names the CDK app gives it: the three functions from their bundles (created, or updated only
 * when their code or settings changed), the failure topic, and both state machines built from the
 * one definition. Idempotent: a second call with the same inputs changes nothing.
 */
export async function installWorkflow(clients: WorkflowInstallClients, options: InstallWorkflowOptions): Promise<InstalledWorkflow> {
  const { names, signal } = options;
  const progress = options.onProgress ?? (() => undefined);
  const environments: Record<keyof WorkflowFunctions, Record<string, string>> = {
    serialize: {},
    classify: { ENDPOINT_NAME: options.endpointName },
    filter: { THRESHOLD: String(options.threshold) },
  };
  const functionArns = {} as WorkflowFunctions;
  for (const step of ['serialize', 'classify', 'filter'] as const) {
    const zip = await bundleZip(options.bundles[step]);
    functionArns[step] = await putFunction(clients.lambda, names.functions[step], step, zip, { NODE_OPTIONS: '--enable-source-maps', ...environments[step] }, options.roleArn, progress, signal);
  }
  const topic = await clients.sns.send(new CreateTopicCommand({ Name: names.topic }), { abortSignal: signal });
  if (!topic.TopicArn) throw new WorkflowLibraryError(`CreateTopic ${names.topic}: the answer has no TopicArn`);
  const definitionOptions = { functions: functionArns, notifyTopicArn: topic.TopicArn };
  const single = await putStateMachine(clients.sfn, names.stateMachines.single, JSON.stringify(buildWorkflowDefinition(definitionOptions)), options.roleArn, signal);
  const batch = await putStateMachine(
    clients.sfn,
    names.stateMachines.batch,
    JSON.stringify(buildBatchWorkflowDefinition({ ...definitionOptions, ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}) })),
    options.roleArn,
    signal,
  );
  return { functionArns, topicArn: topic.TopicArn, stateMachineArns: { single, batch } };
}

/** A deterministic zip of the bundle (`main.js` + `main.js.map`), so unchanged code has the same CodeSha256. */
async function bundleZip(file: string): Promise<Uint8Array> {
  let code: Buffer;
  try {
    code = await readFile(file);
  } catch (error) {
    throw new LambdaBundleError(`cannot read the bundle ${file}: ${(error as Error).message}`);
  }
  const map = await readFile(`${file}.map`).catch(() => undefined);
  const mtime = new Date('2000-01-01T00:00:00Z');
  return zipSync({ 'main.js': [code, { mtime }], ...(map ? { 'main.js.map': [map, { mtime }] } : {}) }, { level: 6 });
}

const isNotFound = (error: unknown) => (error as Error)?.name === 'ResourceNotFoundException';

async function putFunction(
  lambda: LambdaClient,
  name: string,
  step: keyof WorkflowFunctions,
  zip: Uint8Array,
  variables: Record<string, string>,
  roleArn: string,
  progress: (message: string) => void,
  signal?: AbortSignal,
): Promise<string> {
  const settings = WORKFLOW_FUNCTION_SETTINGS[step];
  const sha = createHash('sha256').update(zip).digest('base64');
  let current: FunctionConfiguration | undefined;
  try {
    current = (await lambda.send(new GetFunctionCommand({ FunctionName: name }), { abortSignal: signal })).Configuration;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const wait = { client: lambda, maxWaitTime: 120, minDelay: 1, maxDelay: 2, ...(signal ? { abortSignal: signal } : {}) };
  const configuration = {
    Runtime: WORKFLOW_LAMBDA_RUNTIME,
    Handler: 'main.handler',
    Role: roleArn,
    Description: settings.description,
    MemorySize: settings.memorySize,
    Timeout: settings.timeoutSeconds,
    Environment: { Variables: variables },
  } as const;
  if (!current) {
    progress(`creating function ${name} (${settings.app})`);
    const created = await lambda.send(new CreateFunctionCommand({ FunctionName: name, Code: { ZipFile: zip }, ...configuration }), { abortSignal: signal });
    await waitUntilFunctionActiveV2(wait, { FunctionName: name });
    return created.FunctionArn as string;
  }
  if (current.CodeSha256 !== sha) {
    progress(`updating the code of ${name} (${settings.app} changed)`);
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip }), { abortSignal: signal });
    await waitUntilFunctionUpdatedV2(wait, { FunctionName: name });
  }
  const same =
    current.Runtime === configuration.Runtime &&
    current.Handler === configuration.Handler &&
    current.MemorySize === configuration.MemorySize &&
    current.Timeout === configuration.Timeout &&
    JSON.stringify(sorted(current.Environment?.Variables ?? {})) === JSON.stringify(sorted(variables));
  if (!same) {
    progress(`updating the configuration of ${name}`);
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, ...configuration }), { abortSignal: signal });
    await waitUntilFunctionUpdatedV2(wait, { FunctionName: name });
  }
  return current.FunctionArn as string;
}

function sorted(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Creates the state machine, or updates its definition when one of that name exists. */
async function putStateMachine(sfn: SFNClient, name: string, definition: string, roleArn: string, signal?: AbortSignal): Promise<string> {
  const existing = await findStateMachine(sfn, name, signal);
  if (existing) {
    await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: existing, definition, roleArn }), { abortSignal: signal });
    return existing;
  }
  const created = await sfn.send(new CreateStateMachineCommand({ name, definition, roleArn, type: 'STANDARD' }), { abortSignal: signal });
  return created.stateMachineArn as string;
}

/** The ARN of the state machine of that name, if there is one. */
export async function findStateMachine(sfn: SFNClient, name: string, signal?: AbortSignal): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListStateMachinesCommand({ nextToken }), { abortSignal: signal });
    const found = page.stateMachines?.find((m) => m.name === name);
    if (found?.stateMachineArn) return found.stateMachineArn;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/** Creates or updates a user's state machine from its definition text (`scones run --definition`). */
export async function putUserStateMachine(sfn: SFNClient, name: string, definition: string, roleArn: string, signal?: AbortSignal): Promise<string> {
  return putStateMachine(sfn, name, definition, roleArn, signal);
}
