import { Command, Option } from 'commander';
import { jsonOption, targetOption } from '../cli/options';
import { dataDirOption } from '../cli/stack-options';

export interface InvokeOptions {
  target: 'local' | 'aws';
  endpointUrl?: string;
  dataDir: string;
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
    .addOption(new Option('--endpoint-url <url>', 'a SageMaker Runtime URL of your own (e.g. the endpoint container run by hand) instead of the local stack'))
    .addOption(dataDirOption())
    .addOption(new Option('--content-type <type>', 'request content type (default: image/png or image/jpeg from the file)'))
    .addOption(new Option('--region <region>', 'aws: region (default: the SDK default)'))
    .addOption(jsonOption())
    .action(async (endpoint: string, image: string, options: InvokeOptions) => {
      // Loaded on use: the SageMaker Runtime client costs nothing to other commands.
      const { invoke } = await import('./invoke-run.js');
      process.exitCode = await invoke(endpoint, image, options);
    });
}
