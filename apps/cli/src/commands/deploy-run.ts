import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { imageClassificationImageUri } from '@scones/image-classifier';
import { createS3Client, createSageMakerClient, LOCAL_ROLE_ARN, putObjects } from '@scones/local-cloud';
import { findRunningStack, startDetachedStack } from '@scones/local-stack';
import { deployToSageMaker, type SageMakerDeployment } from '@scones/model-server';
import { DEFAULT_BUCKET_LAYOUT, endpointNameSchema } from '@scones/payload-schemas';
import { refuseStackForLocal, resolveAwsBucket } from '../cli/aws-bucket';
import { UsageError } from '../cli/errors';
import { ensureLocalBucket } from '../cli/local-bucket';
import { runCommand, type CommandContext } from '../cli/run-command';
import { cliCommand } from '../cli/stack-options';
import { openTarget } from '../cli/target';
import type { DeployOptions } from './deploy';

/** `scones deploy` (deploy.ts defines its options); resolves to the exit code. */
export async function deploy(options: DeployOptions, command: Command): Promise<number> {
  let servedUntilStopped = false;
  const code = await runCommand('deploy', options, async (ctx) => {
    checkOptions(options, command);
    refuseStackForLocal(options, command);
    if (options.target === 'aws') options.bucket = await resolveAwsBucket(options, command, 'data capture goes to s3://<bucket>/data_capture', ctx.signal);
    // A bad --model directory is refused before any stack is started.
    const modelFiles = options.model !== undefined ? await modelDirectoryFiles(options.model) : undefined;
    servedUntilStopped = await deployEndpoint(options, modelFiles, ctx);
  });
  // Served by this command's own stack until Ctrl-C: stopping it cleanly (capture written) is success.
  return servedUntilStopped ? 0 : code;
}

function checkOptions(options: DeployOptions, command: Command): void {
  const name = endpointNameSchema.safeParse(options.name);
  if (!name.success) throw new UsageError(`--name ${JSON.stringify(options.name)}: expected 1-63 letters, digits and hyphens, starting and ending with a letter or digit`);
  const given = (option: string) => command.getOptionValueSource(option) === 'cli';
  if (options.target === 'aws') {
    for (const local of ['model', 'detach'] as const) if (given(local)) throw new UsageError(`--${local} applies to --target local only`);
  } else if (options.modelData !== undefined && options.model !== undefined) {
    throw new UsageError('give either --model <dir> or --model-data <s3-uri>');
  }
}

/**
 * CreateModel → CreateEndpointConfig (data capture) → CreateEndpoint (or UpdateEndpoint) → wait for
 * InService, on the local stack or on SageMaker: the same calls. Returns true when this command's
 * own stack served the endpoint until Ctrl-C.
 */
async function deployEndpoint(options: DeployOptions, modelFiles: string[] | undefined, { output, signal }: CommandContext): Promise<boolean> {
  if (options.target === 'local' && options.detach && !(await findRunningStack(options.dataDir))) {
    // The endpoint must outlive this command: it needs a stack that does too.
    const started = await startDetachedStack({ dataDir: options.dataDir, command: [...cliCommand(), 'up', '--port', '0', '--data-dir', options.dataDir], signal });
    output.info(`scones deploy: started the local stack in the background at ${started.url} (pid ${started.pid}; \`scones down\` stops it)`);
  }
  const target = await openTarget(options, output);
  const client = createSageMakerClient(target.target);
  const local = target.kind === 'local';
  try {
    let modelDataUrl = options.modelData;
    if (local && modelFiles !== undefined) modelDataUrl = await uploadModelDirectory(options, modelFiles, target.target, signal);
    const region = local ? String(target.stack?.region) : (options.region ?? (await client.config.region()));
    const result: SageMakerDeployment = await deployToSageMaker(client, {
      endpointName: options.name,
      bucket: options.bucket,
      trainingJobName: options.job,
      modelDataUrl,
      image: options.image ?? (modelDataUrl && local ? imageClassificationImageUri(region) : undefined),
      roleArn: options.roleArn ?? (local ? LOCAL_ROLE_ARN : undefined),
      samplingPercentage: options.sampling,
      instanceType: options.instanceType,
      instanceCount: options.instanceCount,
      waitTimeoutMs: options.waitTimeout * 60_000,
      pollIntervalMs: local ? 250 : 15_000,
      signal,
      onProgress: (message) => output.info(`scones deploy: ${message}`),
    });
    const runtime = local ? `${target.url}/endpoints/${result.endpointName}/invocations` : undefined;
    output.result({ ok: true, command: 'deploy', target: target.kind, ...result, ...(local ? { stackUrl: target.url, invocationsUrl: runtime } : {}) }, () =>
      [
        `endpoint ${result.endpointName} is InService (${result.updated ? 'updated' : 'created'})${local ? ` on the local stack at ${target.url}` : ''}`,
        `model    ${result.modelName} (${result.modelDataUrl})`,
        `capture  ${result.captureDestination}/${result.endpointName}/AllTraffic/ (${options.sampling} % of requests)`,
        `try      scones invoke ${result.endpointName} <image.png>`,
        ...(target.ownsStack ? ['stop     Ctrl-C (the stack this command started stops; `scones up` serves the endpoint again)'] : []),
      ].join('\n'),
    );
    if (!target.ownsStack) return false;
    // No stack was running: this command's stack serves the endpoint until Ctrl-C.
    await new Promise<void>((resolveAbort) => (signal.aborted ? resolveAbort() : signal.addEventListener('abort', () => resolveAbort(), { once: true })));
    output.info(`scones deploy: stopping the local stack (the endpoint writes its last data capture)`);
    return true;
  } finally {
    client.destroy();
    await target.close();
  }
}

/** The files of a `--model <dir>` artifact directory; refuses a directory without manifest.json. */
async function modelDirectoryFiles(model: string): Promise<string[]> {
  const dir = resolve(model);
  let files: string[];
  try {
    files = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`--model ${dir}: ${code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : (error as Error).message}`);
  }
  if (!files.includes('manifest.json')) throw new UsageError(`--model ${dir}: not a model artifact (no manifest.json)`);
  return files;
}

/** `--model <dir>`: the artifact's files under `models/<endpoint>-<timestamp>/`, served from that prefix. */
async function uploadModelDirectory(options: DeployOptions, files: string[], target: Parameters<typeof createS3Client>[0], signal: AbortSignal): Promise<string> {
  const dir = resolve(options.model as string);
  const prefix = DEFAULT_BUCKET_LAYOUT.modelPrefix(`${options.name}-${new Date().toISOString().replace(/[-:T.Z]/g, '').slice(0, 14)}`);
  const s3 = createS3Client(target);
  try {
    // A fresh data directory has no bucket yet: created as `scones stage` does.
    await ensureLocalBucket(s3, options.bucket, signal);
    // manifest.json last: readers take an artifact with a manifest as complete.
    const ordered = [...files.filter((f) => f !== 'manifest.json'), 'manifest.json'];
    for (const file of ordered) await putObjects(s3, options.bucket, [{ key: `${prefix}${file}`, body: await readFile(join(dir, file)) }], { signal });
  } finally {
    s3.destroy();
  }
  return `s3://${options.bucket}/${prefix}`;
}
