import { Command, Option } from 'commander';
import { bucketOption, decimal, integer, jsonOption, targetOption, stackBucketOption } from '../cli/options';
import { dataDirOption } from '../cli/stack-options';

export interface DeployOptions {
  target: 'local' | 'aws';
  name: string;
  model?: string;
  job?: string;
  sampling: number;
  detach?: boolean;
  bucket: string;
  stack?: string;
  dataDir: string;
  modelData?: string;
  image?: string;
  roleArn?: string;
  instanceType?: string;
  instanceCount: number;
  region?: string;
  waitTimeout: number;
  json?: boolean;
}

/** `scones deploy`: a SageMaker endpoint with data capture, on the local stack or on SageMaker. */
export function deployCommand(): Command {
  const command = new Command('deploy')
    .description('deploy a trained model to an endpoint with data capture (CreateModel, CreateEndpointConfig, CreateEndpoint): on the local stack (default) or on SageMaker (--target aws)')
    .addOption(targetOption())
    .addOption(new Option('--name <endpoint>', 'endpoint name').env('SCONES_ENDPOINT').default('scones-endpoint'))
    .addOption(new Option('--job <name>', 'the training job whose model is deployed (default: the newest completed one)'))
    .addOption(new Option('--model <dir>', 'local: a model artifact directory (e.g. from `scones train --data … --out <dir>`), uploaded to models/ first').conflicts('job'))
    .addOption(new Option('--model-data <s3-uri>', 'a model artifact (model.tar.gz, or an S3 prefix locally) instead of a training job').conflicts('job'))
    .addOption(new Option('--sampling <percent>', 'share of requests captured, 0-100').argParser(decimal(0, 100)).default(100))
    .addOption(new Option('--detach', 'local: return once the endpoint is InService, starting the local stack in the background if none runs (`scones down` stops it)'))
    .addOption(bucketOption())
    .addOption(stackBucketOption())
    .addOption(dataDirOption())
    .addOption(new Option('--image <uri>', "inference image (default: the training job's image)"))
    .addOption(new Option('--role-arn <arn>', "SageMaker execution role (default: the training job's role)"))
    .addOption(new Option('--instance-type <type>', 'instance type (recorded locally)').default('ml.m5.large'))
    .addOption(new Option('--instance-count <n>', 'instance count').argParser(integer(1, 100)).default(1))
    .addOption(new Option('--region <region>', 'aws: region (default: the SDK default)'))
    .addOption(new Option('--wait-timeout <minutes>', 'how long to wait for InService').argParser(integer(1, 600)).default(30))
    .addOption(jsonOption());
  command.addHelpText(
    'after',
    '\nLocally, with a stack running (`scones up`), deploy returns once the endpoint is InService, as on AWS. Without one, it starts\na stack for itself and serves until Ctrl-C (or pass --detach to leave a stack running in the background).',
  );
  return command.action(async (options: DeployOptions) => {
    // Loaded on use: the SDK clients and the stack cost nothing to other commands.
    const { deploy } = await import('./deploy-run.js');
    process.exitCode = await deploy(options, command);
  });
}
