import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { artifactAtUrl, readManifest } from '@scones/image-classifier';
import {
  createLambdaClient,
  createS3Client,
  createSageMakerClient,
  createSnsClient,
  createStepFunctionsClient,
  listObjects,
  LOCAL_ROLE_ARN,
  readStackOutputs,
  type StackOutputs,
} from '@scones/local-cloud';
import { describeDeployedModel, type DeployedModel } from '@scones/model-server';
import { bucketLayout, WorkflowErrorName, type BucketLayout, type ModelManifest } from '@scones/payload-schemas';
import {
  checkLambdaBundle,
  groundTruthFromLst,
  installWorkflow,
  lambdaBundleFile,
  LambdaBundleError,
  putUserStateMachine,
  StepFunctionsExecutor,
  WORKFLOW_FUNCTION_SETTINGS,
  WorkflowDefinitionError,
  workflowResourceNames,
  type GroundTruth,
  type WorkflowExecutor,
} from '@scones/workflow';
import { UsageError } from './errors';
import type { Output } from './output';
import { openTarget } from './target';
import type { WorkflowTargetOptions } from './workflow-options';
import { isImageKey } from './image-keys';

/** An opened workflow target: executors for the state machines and the bucket's S3 client. */
export interface WorkflowSession {
  target: 'local' | 'aws';
  bucket: string;
  layout: BucketLayout;
  s3: S3Client;
  single: WorkflowExecutor;
  /** The batch (Map) state machine; undefined for a user's own definition (it has none). */
  batch?: WorkflowExecutor;
  /** What the session runs against, for the command's result. */
  describe: Record<string, string | number | null>;
  /** Class names of the deployed model, when known. */
  classNames?: string[];
  close(): Promise<void>;
}

export interface SessionNeeds {
  batch?: boolean;
  /** The batch Map's MaxConcurrency (local: the installed batch definition gets it). */
  maxConcurrency?: number;
  /** Read each execution's history (GetExecutionHistory). */
  history?: boolean;
  bucketGiven: boolean;
}

export async function openWorkflowSession(options: WorkflowTargetOptions, needs: SessionNeeds, output: Output, signal: AbortSignal): Promise<WorkflowSession> {
  let layout: BucketLayout;
  try {
    layout = bucketLayout(options.dataPrefix);
  } catch (error) {
    throw new UsageError(`--data-prefix: ${(error as Error).message}`);
  }
  return options.target === 'aws' ? openAwsSession(options, needs, layout, signal) : openLocalSession(options, needs, layout, output, signal);
}

async function openAwsSession(options: WorkflowTargetOptions, needs: SessionNeeds, layout: BucketLayout, signal: AbortSignal): Promise<WorkflowSession> {
  if (needs.maxConcurrency !== undefined) throw new UsageError('--max-concurrency applies to --target local only (on AWS it is part of the deployed batch state machine)');
  const missing = !options.stateMachineArn || (needs.batch && !options.batchStateMachineArn) || !needs.bucketGiven;
  const outputs: StackOutputs | undefined = missing ? await readStackOutputs(options.stack, { region: options.region, signal }) : undefined;
  const bucket = needs.bucketGiven ? options.bucket : (outputs as StackOutputs).bucketName;
  const client = createStepFunctionsClient({ kind: 'aws', region: options.region });
  const stateMachineArn = options.stateMachineArn ?? (outputs as StackOutputs).stateMachineArn;
  const batchStateMachineArn = options.batchStateMachineArn ?? outputs?.batchStateMachineArn ?? null;
  if (needs.batch && !batchStateMachineArn) throw new UsageError('--all needs the batch state machine: pass --batch-state-machine-arn or --stack');
  const s3 = createS3Client({ kind: 'aws', region: options.region });
  return {
    target: 'aws',
    bucket,
    layout,
    s3,
    single: new StepFunctionsExecutor({ client, stateMachineArn, history: needs.history }),
    ...(batchStateMachineArn ? { batch: new StepFunctionsExecutor({ client, stateMachineArn: batchStateMachineArn }) } : {}),
    describe: { stateMachineArn, batchStateMachineArn, bucket },
    close: async () => {
      client.destroy();
      s3.destroy();
    },
  };
}

/** The repository the CLI runs from (`tools/scones.js` sets SCONES_ROOT). */
function workspaceRoot(): string {
  return process.env.SCONES_ROOT ?? process.cwd();
}

/**
 * The local stack, through the same APIs as AWS: the project's functions (from their bundles),
 * failure topic and state machines installed there under the CDK app's names — or the user's own
 * definition created or updated — and executions run with StartExecution/DescribeExecution.
 */
async function openLocalSession(options: WorkflowTargetOptions, needs: SessionNeeds, layout: BucketLayout, output: Output, signal: AbortSignal): Promise<WorkflowSession> {
  const opened = await openTarget(options, output);
  const s3 = createS3Client(opened.target);
  const sfn = createStepFunctionsClient(opened.target);
  const clients: Array<{ destroy(): void }> = [s3, sfn];
  const close = async () => {
    for (const client of clients) client.destroy();
    await opened.close();
  };
  // Locally an execution takes milliseconds: poll from 2 ms up to 50 ms.
  const executor = (stateMachineArn: string, history = false) => new StepFunctionsExecutor({ client: sfn, stateMachineArn, pollIntervalMs: 2, maxPollIntervalMs: 50, history });
  try {
    if (options.definition !== undefined) {
      const { name, arn } = await installUserDefinition(options, sfn, signal);
      output.info(`scones: state machine ${name} on the local stack (${arn}) from ${options.definition}`);
      return { target: 'local', bucket: options.bucket, layout, s3, single: executor(arn, needs.history), describe: { stateMachineArn: arn, definition: options.definition, stackUrl: opened.url ?? null, bucket: options.bucket }, close };
    }
    const sagemaker = createSageMakerClient(opened.target);
    const lambda = createLambdaClient(opened.target);
    const sns = createSnsClient(opened.target);
    clients.push(sagemaker, lambda, sns);
    const model = await deployedModel(options, sagemaker, s3, signal);
    const threshold = options.threshold ?? model.manifest?.threshold.value;
    if (threshold === undefined) throw new UsageError(`--threshold is required: endpoint "${options.endpoint}" serves ${model.modelDataUrl ?? 'a model'} without a readable model manifest to take the threshold from`);
    if (options.threshold === undefined) output.info(`scones: THRESHOLD ${threshold} (threshold.value of the model endpoint ${options.endpoint} serves, ${model.modelDataUrl})`);
    const bundles = await localBundles(options.lambdaBundles, output, signal);
    const installed = await installWorkflow(
      { lambda, sfn, sns },
      {
        names: workflowResourceNames(),
        bundles: { serialize: bundles[WORKFLOW_FUNCTION_SETTINGS.serialize.app], classify: bundles[WORKFLOW_FUNCTION_SETTINGS.classify.app], filter: bundles[WORKFLOW_FUNCTION_SETTINGS.filter.app] },
        endpointName: options.endpoint,
        threshold,
        roleArn: LOCAL_ROLE_ARN,
        ...(needs.maxConcurrency !== undefined ? { maxConcurrency: needs.maxConcurrency } : {}),
        signal,
        onProgress: (message) => output.info(`scones: ${message}`),
      },
    );
    return {
      target: 'local',
      bucket: options.bucket,
      layout,
      s3,
      single: executor(installed.stateMachineArns.single, needs.history),
      batch: executor(installed.stateMachineArns.batch),
      describe: { endpoint: options.endpoint, threshold, stackUrl: opened.url ?? null, stateMachineArn: installed.stateMachineArns.single, batchStateMachineArn: installed.stateMachineArns.batch, bucket: options.bucket },
      ...(model.manifest ? { classNames: model.manifest.classNames } : {}),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The endpoint's model and, when it is this project's, its manifest (threshold, class names). */
async function deployedModel(options: WorkflowTargetOptions, sagemaker: SageMakerClient, s3: S3Client, signal: AbortSignal): Promise<{ modelDataUrl?: string; manifest?: ModelManifest }> {
  let deployed: DeployedModel;
  try {
    deployed = await describeDeployedModel(sagemaker, options.endpoint, signal);
  } catch (error) {
    if (signal.aborted) throw error;
    if (/could not find endpoint/i.test((error as Error).message)) {
      throw new UsageError(`no endpoint named "${options.endpoint}" on the local stack: deploy one with \`scones deploy --name ${options.endpoint}\` (or pass --endpoint)`);
    }
    throw error;
  }
  if (deployed.endpointStatus !== 'InService') throw new UsageError(`endpoint "${options.endpoint}" is ${deployed.endpointStatus}, not InService (see \`scones status\`)`);
  if (!deployed.modelDataUrl) return {};
  try {
    return { modelDataUrl: deployed.modelDataUrl, manifest: await readManifest(artifactAtUrl(s3, deployed.modelDataUrl), signal) };
  } catch (error) {
    if (signal.aborted) throw error;
    return { modelDataUrl: deployed.modelDataUrl };
  }
}

/** `--definition <file>`: created, or updated when a state machine of that name exists. */
async function installUserDefinition(options: WorkflowTargetOptions, sfn: SFNClient, signal: AbortSignal): Promise<{ name: string; arn: string }> {
  const file = options.definition as string;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--definition ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const name = options.stateMachineName ?? basename(file).replace(/(\.asl)?\.json$/i, '').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new UsageError(`--state-machine-name ${JSON.stringify(name)}: expected 1-80 letters, digits, hyphens and underscores`);
  try {
    return { name, arn: await putUserStateMachine(sfn, name, text, LOCAL_ROLE_ARN, signal) };
  } catch (error) {
    if (signal.aborted) throw error;
    const e = error as Error;
    // InvalidDefinition names the state and the problem: the file is the user's input.
    throw new WorkflowDefinitionError(`${file}: ${e.name}: ${e.message}`);
  }
}

/**
 * The Lambda bundles to load. Given a directory, its bundles as they are. Otherwise `dist/apps`,
 * first rebuilt (tools/build-lambda-bundles.ts: the apps' own esbuild options, ~1 s) when a bundle
 * is missing or one of its sources changed since it was built.
 */
async function localBundles(directory: string | undefined, output: Output, signal: AbortSignal): Promise<Record<string, string>> {
  const names = Object.values(WORKFLOW_FUNCTION_SETTINGS).map((settings) => settings.app);
  const root = workspaceRoot();
  const bundleDirectory = directory ?? join(root, 'dist/apps');
  const files: Record<string, string> = Object.fromEntries(names.map((name) => [name, lambdaBundleFile(bundleDirectory, name)]));
  const withSources = directory === undefined ? names.filter((name) => existsSync(join(root, 'apps', name, 'src'))) : [];
  const stale = async () =>
    (await Promise.all(withSources.map(async (name) => ({ name, ...(await checkLambdaBundle(files[name], [join(root, 'apps', name, 'project.json')])) })))).filter((b) => !b.fresh);
  const outdated = await stale();
  if (outdated.length) {
    output.info(`scones: building ${outdated.map((b) => `${b.name} (${b.reason})`).join(', ')}`);
    await buildBundles(root, outdated.map((b) => b.name), signal);
    const still = await stale();
    if (still.length) throw new LambdaBundleError(`${still[0].name} is still out of date after building: ${still[0].reason}`);
  }
  for (const [name, file] of Object.entries(files)) {
    if (!existsSync(file)) throw new LambdaBundleError(`${name}: no bundle at ${file}${directory ? '' : ' (build it with `npx nx build ' + name + '`)'}`);
  }
  return files;
}

function buildBundles(root: string, projects: string[], signal: AbortSignal): Promise<void> {
  const tool = join(root, 'tools/build-lambda-bundles.ts');
  if (!existsSync(tool)) return Promise.reject(new LambdaBundleError(`cannot rebuild ${projects.join(', ')}: ${tool} is missing`));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'tools/run-ts.js'), tool, ...projects], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let log = '';
    child.stdout.on('data', (chunk) => (log += chunk));
    child.stderr.on('data', (chunk) => (log += chunk));
    child.once('error', (error) => reject(signal.aborted ? signal.reason : new LambdaBundleError(`cannot build ${projects.join(', ')}: ${error.message}`)));
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new LambdaBundleError(`building ${projects.join(', ')} failed (exit code ${code}): ${log.trim().split('\n').slice(-5).join('\n')}`)),
    );
  });
}

/** The image keys under a prefix (PNG and JPEG), sorted. */
export async function listImageKeys(session: WorkflowSession, prefix: string, signal: AbortSignal): Promise<string[]> {
  const keys = [...(await listObjects(session.s3, session.bucket, prefix, { signal })).keys()].filter(isImageKey).sort();
  if (keys.length === 0) throw new UsageError(`no images under s3://${session.bucket}/${prefix} (stage the data first with \`scones stage\`)`);
  return keys;
}

/** The ground truth in the bucket's `.lst` manifest, or undefined when there is none. */
export async function readGroundTruth(session: WorkflowSession, lstKey: string, signal: AbortSignal): Promise<GroundTruth | undefined> {
  let text: string;
  try {
    const answer = await session.s3.send(new GetObjectCommand({ Bucket: session.bucket, Key: lstKey }), { abortSignal: signal });
    text = (await answer.Body?.transformToString()) ?? '';
  } catch (error) {
    const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (name === 'NoSuchKey' || $metadata?.httpStatusCode === 404) return undefined;
    throw error;
  }
  return groundTruthFromLst(text, lstKey, `s3://${session.bucket}/${lstKey}`);
}

/** `12.3 ms` / `1.52 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** `ImageNotFound 2, ServiceUnavailable 1` (THRESHOLD_CONFIDENCE_NOT_MET left out: it is counted on its own). */
export function formatOtherFailures(failuresByError: Record<string, number>): string {
  return Object.entries(failuresByError)
    .filter(([name]) => name !== WorkflowErrorName.ThresholdConfidenceNotMet)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
}
