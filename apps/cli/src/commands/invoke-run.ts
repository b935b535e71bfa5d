import { readFile } from 'node:fs/promises';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { sniffImageFormat } from '@scones/image-classifier';
import { createSageMakerRuntimeClient, type Target } from '@scones/local-cloud';
import { inferenceOutputSchema, parseJsonOrThrow } from '@scones/payload-schemas';
import { UsageError } from '../cli/errors';
import { runCommand, type CommandContext } from '../cli/run-command';
import { openTarget, type OpenedTarget } from '../cli/target';
import type { InvokeOptions } from './invoke';

/** `scones invoke` (invoke.ts defines its arguments and options); resolves to the exit code. */
export function invoke(endpoint: string, image: string, options: InvokeOptions): Promise<number> {
  return runCommand('invoke', options, (ctx) => invokeEndpoint(endpoint, image, options, ctx));
}

async function invokeEndpoint(endpointName: string, imagePath: string, options: InvokeOptions, { output, signal }: CommandContext): Promise<void> {
  let body: Buffer;
  try {
    body = await readFile(imagePath);
  } catch (error) {
    throw new UsageError(`<image> ${imagePath}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const format = sniffImageFormat(body);
  const contentType = options.contentType ?? (format === 'jpeg' ? 'image/jpeg' : 'image/png');
  if (!options.contentType && !format) output.info(`scones invoke: ${imagePath} is neither PNG nor JPEG; sending it as image/png anyway`);

  if (options.endpointUrl !== undefined) {
    try {
      new URL(options.endpointUrl);
    } catch {
      throw new UsageError(`--endpoint-url: expected a URL like http://127.0.0.1:8080, got ${JSON.stringify(options.endpointUrl)}`);
    }
  }
  const opened: OpenedTarget | undefined = options.endpointUrl === undefined ? await openTarget(options, output) : undefined;
  const target: Target = opened?.target ?? { kind: 'local', s3Endpoint: options.endpointUrl as string, sagemakerRuntimeEndpoint: options.endpointUrl };
  try {
    await classify(endpointName, imagePath, body, contentType, target, output, signal);
  } finally {
    await opened?.close();
  }
}

async function classify(endpointName: string, imagePath: string, body: Buffer, contentType: string, target: Target, output: CommandContext['output'], signal: AbortSignal): Promise<void> {
  const client = createSageMakerRuntimeClient(target);
  const started = performance.now();
  let answer;
  try {
    answer = await client.send(new InvokeEndpointCommand({ EndpointName: endpointName, ContentType: contentType, Body: body }), { abortSignal: signal });
  } finally {
    client.destroy();
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  const text = Buffer.from(answer.Body ?? []).toString('utf8');
  const probabilities = parseJsonOrThrow(inferenceOutputSchema, text, `endpoint "${endpointName}" answer`);
  const top = probabilities.indexOf(Math.max(...probabilities));
  output.result(
    { ok: true, command: 'invoke', endpoint: endpointName, image: imagePath, contentType, probabilities, top, variant: answer.InvokedProductionVariant ?? null, latencyMs },
    () => `${JSON.stringify(probabilities)}\nclass ${top} (p=${probabilities[top].toFixed(3)}), ${answer.InvokedProductionVariant ?? 'unknown variant'}, ${latencyMs} ms`,
  );
}
