import { readFile } from 'node:fs/promises';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { Command, Option } from 'commander';
import { sniffImageFormat } from '@scones/image-classifier';
import { createSageMakerRuntimeClient, EndpointRegistry, type Target } from '@scones/local-cloud';
import { inferenceOutputSchema, parseJsonOrThrow } from '@scones/payload-schemas';
import { UsageError } from '../cli/errors';
import { jsonOption, targetOption } from '../cli/options';
import { runCommand, type CommandContext } from '../cli/run-command';

interface InvokeOptions {
  target: 'local' | 'aws';
  endpointUrl?: string;
  endpointsDir?: string;
  contentType?: string;
  region?: string;
  json?: boolean;
}

/** `scones invoke <endpoint> <image>`: one InvokeEndpoint call, the way any SDK client makes it. */
export function invokeCommand(): Command {
  return new Command('invoke')
    .description('classify one image with a deployed endpoint (SageMaker InvokeEndpoint) and print the class probabilities')
    .argument('<endpoint>', 'endpoint name')
    .argument('<image>', 'PNG or JPEG file')
    .addOption(targetOption())
    .addOption(new Option('--endpoint-url <url>', 'SageMaker Runtime URL (local default: found in the endpoint registry by name)'))
    .addOption(new Option('--endpoints-dir <dir>', 'local endpoint registry directory').env('SCONES_ENDPOINTS_DIR'))
    .addOption(new Option('--content-type <type>', 'request content type (default: image/png or image/jpeg from the file)'))
    .addOption(new Option('--region <region>', 'aws: region (default: the SDK default)'))
    .addOption(jsonOption())
    .action(async (endpoint: string, image: string, options: InvokeOptions) => {
      process.exitCode = await runCommand('invoke', options, (ctx) => invoke(endpoint, image, options, ctx));
    });
}

async function invoke(endpointName: string, imagePath: string, options: InvokeOptions, { output, signal }: CommandContext): Promise<void> {
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
