import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type FunctionConfiguration,
  type Runtime,
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
    const settings = WORKFLOW_FUNCTION_SETTINGS[step];
    const put = await putFunction(
      clients.lambda,
      {
        name: names.functions[step],
        zip: await bundleZip(options.bundles[step]),
        runtime: WORKFLOW_LAMBDA_RUNTIME,
        handler: 'main.handler',
        roleArn: options.roleArn,
        environment: { NODE_OPTIONS: '--enable-source-maps', ...environments[step] },
        description: settings.description,
        memorySize: settings.memorySize,
        timeoutSeconds: settings.timeoutSeconds,
      },
      { signal, onProgress: (message) => progress(`${message} (${settings.app})`) },
    );
    functionArns[step] = put.functionArn;
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

/** A Lambda function as `putFunction` creates or updates it. */
export interface FunctionSpec {
  name: string;
  /** The deployment package. */
  zip: Uint8Array;
  runtime: string;
  handler: string;
  roleArn: string;
  environment?: Record<string, string>;
  description?: string;
  memorySize?: number;
  timeoutSeconds?: number;
}

export interface PutFunctionResult {
  functionArn: string;
  action: 'created' | 'updated' | 'unchanged';
}

/**
 * Creates the function, or updates what changed: the code only when its SHA-256 differs, the
 * configuration only when a setting differs — waiting for each change to finish, as Lambda
 * refuses a second update while one is in progress.
 */
export async function putFunction(lambda: LambdaClient, spec: FunctionSpec, options: { signal?: AbortSignal; onProgress?(message: string): void } = {}): Promise<PutFunctionResult> {
  const { signal } = options;
  const progress = options.onProgress ?? (() => undefined);
  const sha = createHash('sha256').update(spec.zip).digest('base64');
  let current: FunctionConfiguration | undefined;
  try {
    current = (await lambda.send(new GetFunctionCommand({ FunctionName: spec.name }), { abortSignal: signal })).Configuration;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const wait = { client: lambda, maxWaitTime: 120, minDelay: 1, maxDelay: 2, ...(signal ? { abortSignal: signal } : {}) };
  const variables = spec.environment ?? {};
  const configuration = {
    Runtime: spec.runtime as Runtime,
    Handler: spec.handler,
    Role: spec.roleArn,
    ...(spec.description !== undefined ? { Description: spec.description } : {}),
    ...(spec.memorySize !== undefined ? { MemorySize: spec.memorySize } : {}),
    ...(spec.timeoutSeconds !== undefined ? { Timeout: spec.timeoutSeconds } : {}),
    Environment: { Variables: variables },
  };
  if (!current) {
    progress(`creating function ${spec.name}`);
    const created = await lambda.send(new CreateFunctionCommand({ FunctionName: spec.name, Code: { ZipFile: spec.zip }, ...configuration }), { abortSignal: signal });
    await waitUntilFunctionActiveV2(wait, { FunctionName: spec.name });
    return { functionArn: created.FunctionArn as string, action: 'created' };
  }
  let action: PutFunctionResult['action'] = 'unchanged';
  if (current.CodeSha256 !== sha) {
    progress(`updating the code of ${spec.name}`);
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: spec.name, ZipFile: spec.zip }), { abortSignal: signal });
    await waitUntilFunctionUpdatedV2(wait, { FunctionName: spec.name });
    action = 'updated';
  }
  const same =
    current.Runtime === configuration.Runtime &&
    current.Handler === configuration.Handler &&
    (spec.memorySize === undefined || current.MemorySize === spec.memorySize) &&
    (spec.timeoutSeconds === undefined || current.Timeout === spec.timeoutSeconds) &&
    JSON.stringify(sorted(current.Environment?.Variables ?? {})) === JSON.stringify(sorted(variables));
  if (!same) {
    progress(`updating the configuration of ${spec.name}`);
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: spec.name, ...configuration }), { abortSignal: signal });
    await waitUntilFunctionUpdatedV2(wait, { FunctionName: spec.name });
    action = 'updated';
  }
  return { functionArn: current.FunctionArn as string, action };
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

/**
 * A deployment package: a `.zip` file as it is, or a directory zipped with its files at the root
 * (the way `zip -r ../function.zip .` from inside it makes one), deterministically.
 */
export async function deploymentPackage(path: string): Promise<Uint8Array> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new WorkflowLibraryError(`${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (error as Error).message}`);
  }
  if (info.isFile()) return readFile(path);
  const files: Record<string, [Uint8Array, { mtime: Date }]> = {};
  const mtime = new Date('2000-01-01T00:00:00Z');
  const visit = async (dir: string, prefix: string) => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name === '__pycache__' || entry.name === '.git') continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await visit(full, `${prefix}${entry.name}/`);
      else if (entry.isFile()) files[`${prefix}${entry.name}`] = [await readFile(full), { mtime }];
    }
  };
  await visit(path, '');
  if (Object.keys(files).length === 0) throw new WorkflowLibraryError(`${path}: the directory is empty; nothing to deploy`);
  return zipSync(files, { level: 6 });
}
