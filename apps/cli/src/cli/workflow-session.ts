import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describeArtifactFile, MANIFEST_FILE, readManifest, type ArtifactLocation } from '@scones/image-classifier';
import {
  createS3Client,
  createStepFunctionsClient,
  EndpointRegistry,
  listObjects,
  readStackOutputs,
  startLocalS3,
  type LocalS3,
  type StackOutputs,
} from '@scones/local-cloud';
import {
  buildBatchWorkflowDefinition,
  buildWorkflowDefinition,
  checkLambdaBundle,
  groundTruthFromLst,
  lambdaBundleFile,
  LambdaBundleError,
  loadLocalLambdas,
  LocalWorkflowRunner,
  LOCAL_FUNCTION_NAMES,
  LOCAL_NOTIFY_TOPIC_ARN,
  StepFunctionsExecutor,
  type GroundTruth,
  type LambdaHandler,
  type WorkflowExecutor,
} from '@scones/workflow';
import { WorkflowErrorName } from '@scones/payload-schemas';
import { UsageError } from './errors';
import type { Output } from './output';
import type { WorkflowTargetOptions } from './workflow-options';
import { isImageKey } from './image-keys';

/** An opened workflow target: executors for both definitions and the bucket's S3 client. */
export interface WorkflowSession {
  target: 'local' | 'aws';
  bucket: string;
  s3: S3Client;
  single: WorkflowExecutor;
  /** The batch (Map) state machine; `maxConcurrency` only locally (on AWS it is deployed). */
  batch(maxConcurrency?: number): WorkflowExecutor;
  /** What the session runs against, for the command's result. */
  describe: Record<string, string | number | null>;
  /** Class names of the deployed model, when known. */
  classNames?: string[];
  close(): Promise<void>;
}

export interface SessionNeeds {
  batch?: boolean;
  /** Record each local execution's history (the load generator does not need it). */
  history?: boolean;
  bucketGiven: boolean;
}

export async function openWorkflowSession(options: WorkflowTargetOptions, needs: SessionNeeds, output: Output, signal: AbortSignal): Promise<WorkflowSession> {
  return options.target === 'aws' ? openAwsSession(options, needs, signal) : openLocalSession(options, needs, output, signal);
}

async function openAwsSession(options: WorkflowTargetOptions, needs: SessionNeeds, signal: AbortSignal): Promise<WorkflowSession> {
  const missing = !options.stateMachineArn || (needs.batch && !options.batchStateMachineArn) || !needs.bucketGiven;
  const outputs: StackOutputs | undefined = missing ? await readStackOutputs(options.stack, { region: options.region, signal }) : undefined;
  const bucket = needs.bucketGiven ? options.bucket : (outputs as StackOutputs).bucketName;
  const client = createStepFunctionsClient({ kind: 'aws', region: options.region });
  const stateMachineArn = options.stateMachineArn ?? (outputs as StackOutputs).stateMachineArn;
  const batchStateMachineArn = options.batchStateMachineArn ?? outputs?.batchStateMachineArn ?? null;
  return {
    target: 'aws',
    bucket,
    s3: createS3Client({ kind: 'aws', region: options.region }),
    single: new StepFunctionsExecutor({ client, stateMachineArn }),
    batch: (maxConcurrency) => {
      if (maxConcurrency !== undefined) throw new UsageError('--max-concurrency applies to --target local only (on AWS it is part of the deployed batch state machine)');
      if (!batchStateMachineArn) throw new UsageError('--all needs the batch state machine: pass --batch-state-machine-arn or --stack');
      return new StepFunctionsExecutor({ client, stateMachineArn: batchStateMachineArn });
    },
    describe: { stateMachineArn, batchStateMachineArn, bucket },
    close: async () => client.destroy(),
  };
}

/** The repository the CLI runs from (`tools/scones.js` sets SCONES_ROOT). */
function workspaceRoot(): string {
  return process.env.SCONES_ROOT ?? process.cwd();
}

async function openLocalSession(options: WorkflowTargetOptions, needs: SessionNeeds, output: Output, signal: AbortSignal): Promise<WorkflowSession> {
  const s3 = await startLocalS3({ directory: options.s3Dir, buckets: [options.bucket] });
  try {
    const s3Client = createS3Client(s3.target);
    const { url, model } = await resolveEndpoint(options);
    const location = model ? artifactLocation(model, s3Client) : undefined;
    const manifest = location ? await readManifest(location, signal) : undefined;
    const threshold = options.threshold ?? manifest?.threshold.value;
    if (threshold === undefined) {
      throw new UsageError(`--threshold is required with --endpoint-url (there is no deployed model manifest to read the threshold from)`);
    }
    if (options.threshold === undefined && location) output.info(`scones: THRESHOLD ${threshold} (threshold.value of ${describeArtifactFile(location, MANIFEST_FILE)})`);
    const bundles = await localBundles(options.lambdaBundles, output, signal);
    const handlers: Record<string, LambdaHandler> = loadLocalLambdas({
      bundles,
      target: { ...s3.target, sagemakerRuntimeEndpoint: url },
      endpointName: options.endpoint,
      threshold,
    });
    const runnerOptions = { handlers, s3: s3Client, retryIntervalScale: options.retryIntervalScale, history: needs.history !== false };
    const functions = { functions: LOCAL_FUNCTION_NAMES, notifyTopicArn: LOCAL_NOTIFY_TOPIC_ARN };
    return {
      target: 'local',
      bucket: options.bucket,
      s3: s3Client,
      single: new LocalWorkflowRunner(buildWorkflowDefinition(functions), runnerOptions),
      batch: (maxConcurrency) => new LocalWorkflowRunner(buildBatchWorkflowDefinition({ ...functions, maxConcurrency }), { ...runnerOptions, stateMachineName: 'scones-batch-workflow' }),
      describe: { endpoint: options.endpoint, endpointUrl: url, threshold, s3Endpoint: s3.endpoint, bucket: options.bucket },
      ...(manifest ? { classNames: manifest.classNames } : {}),
      close: () => stopQuietly(s3),
    };
  } catch (error) {
    await stopQuietly(s3);
    throw error;
  }
}

async function stopQuietly(s3: LocalS3): Promise<void> {
  await s3.stop().catch(() => undefined);
}

/** The endpoint's URL (and the model it serves, for the threshold) from --endpoint-url or the registry. */
async function resolveEndpoint(options: WorkflowTargetOptions): Promise<{ url: string; model?: string }> {
  if (options.endpointUrl) {
    try {
      new URL(options.endpointUrl);
    } catch {
      throw new UsageError(`--endpoint-url: expected a URL like http://127.0.0.1:8080, got ${JSON.stringify(options.endpointUrl)}`);
    }
    return { url: options.endpointUrl };
  }
  const registry = new EndpointRegistry({ directory: options.endpointsDir });
  const entry = await registry.get(options.endpoint);
  if (entry) return { url: entry.url, model: entry.model };
  const running = (await registry.list()).map((e) => e.name);
  throw new UsageError(
    `no local endpoint named "${options.endpoint}" is running (start one with \`scones deploy --name ${options.endpoint} --detach\`, or pass --endpoint-url)${running.length ? `; running: ${running.join(', ')}` : ''}`,
  );
}

/** The registry's `model`: a directory, or `s3://bucket/models/<job>/` in the embedded S3. */
function artifactLocation(model: string, s3: S3Client): ArtifactLocation {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(model);
  return match ? { s3, bucket: match[1], prefix: match[2] } : model;
}

/**
 * The Lambda bundles to load. Given a directory, its bundles as they are. Otherwise `dist/apps`,
 * first rebuilt (tools/build-lambda-bundles.ts: the apps' own esbuild options, ~1 s) when a bundle
 * is missing or one of its sources changed since it was built.
 */
async function localBundles(directory: string | undefined, output: Output, signal: AbortSignal): Promise<Record<string, string>> {
  const names = Object.values(LOCAL_FUNCTION_NAMES);
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
