import { readFile } from 'node:fs/promises';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { sniffImageFormat } from '@scones/image-classifier';
import { createSageMakerRuntimeClient, EndpointRegistry, type Target } from '@scones/local-cloud';
import { inferenceOutputSchema, parseJsonOrThrow } from '@scones/payload-schemas';
import { UsageError } from '../cli/errors';
import { runCommand, type CommandContext } from '../cli/run-command';
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

  let target: Target;
  if (options.target === 'aws') {
    target = { kind: 'aws', region: options.region };
  } else {
    let url = options.endpointUrl;
    if (!url) {
      const registry = new EndpointRegistry({ directory: options.endpointsDir });
      const entry = await registry.get(endpointName);
      if (!entry) {
        const running = (await registry.list()).map((e) => e.name);
        throw new Error(
          `no local endpoint named "${endpointName}" is running (start one with \`scones deploy --name ${endpointName}\`)${running.length ? `; running: ${running.join(', ')}` : ''}`,
        );
      }
      url = entry.url;
    }
    // The embedded S3 plays no part in an invocation.
    target = { kind: 'local', s3Endpoint: url, sagemakerRuntimeEndpoint: url };
  }
  const client = createSageMakerRuntimeClient(target);
  const started = performance.now();
  const answer = await client.send(new InvokeEndpointCommand({ EndpointName: endpointName, ContentType: contentType, Body: body }), { abortSignal: signal });
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  const text = Buffer.from(answer.Body ?? []).toString('utf8');
  const probabilities = parseJsonOrThrow(inferenceOutputSchema, text, `endpoint "${endpointName}" answer`);
  const top = probabilities.indexOf(Math.max(...probabilities));
  output.result(
    { ok: true, command: 'invoke', endpoint: endpointName, image: imagePath, contentType, probabilities, top, variant: answer.InvokedProductionVariant ?? null, latencyMs },
    () => `${JSON.stringify(probabilities)}\nclass ${top} (p=${probabilities[top].toFixed(3)}), ${answer.InvokedProductionVariant ?? 'unknown variant'}, ${latencyMs} ms`,
  );
}
