import { Command, Option } from 'commander';
import { bucketOption, decimal, integer, jsonOption, s3DirOption, targetOption, stackBucketOption } from '../cli/options';

export interface DeployOptions {
  target: 'local' | 'aws';
  name: string;
  model?: string;
  job?: string;
  port: number;
  host: string;
  captureDir?: string;
  sampling: number;
  detach?: boolean;
  bucket: string;
  stack?: string;
  s3Dir: string;
  endpointsDir?: string;
  modelData?: string;
  image?: string;
  roleArn?: string;
  instanceType?: string;
  instanceCount: number;
  region?: string;
  waitTimeout: number;
  json?: boolean;
}

/** `scones deploy`: serve a trained model as a SageMaker-style endpoint, locally or on SageMaker. */
export function deployCommand(): Command {
  const command = new Command('deploy')
    .description('serve a trained model as an endpoint with data capture: on loopback (default) or on SageMaker (--target aws)')
    .addOption(targetOption())
    .addOption(new Option('--name <endpoint>', 'endpoint name').env('SCONES_ENDPOINT').default('scones-endpoint'))
    .addOption(new Option('--model <dir>', 'model artifact directory (local target; default: models/<job>/ in the bucket)'))
    .addOption(new Option('--job <name>', 'training job: models/<job>/ in the bucket, or the SageMaker training job with --target aws (default: the newest)').conflicts('model'))
    .addOption(new Option('--port <port>', 'local port (0: a free one)').argParser(integer(0, 65535)).default(0))
    .addOption(new Option('--host <address>', 'local address to listen on').default('127.0.0.1'))
    .addOption(new Option('--capture-dir <dir>', 'write data capture to this directory (same key layout as the bucket) instead of the embedded S3'))
    .addOption(new Option('--sampling <percent>', 'share of requests captured, 0-100').argParser(decimal(0, 100)).default(100))
    .addOption(new Option('--detach', 'start the local endpoint in the background and return (stop it with `kill <pid>`)'))
    .addOption(bucketOption())
    .addOption(stackBucketOption())
    .addOption(s3DirOption())
    .addOption(new Option('--endpoints-dir <dir>', 'local endpoint registry directory').env('SCONES_ENDPOINTS_DIR'))
    .addOption(new Option('--model-data <s3-uri>', 'aws: model artifact (model.tar.gz) instead of a training job'))
    .addOption(new Option('--image <uri>', "aws: inference image (default: the training job's image)"))
    .addOption(new Option('--role-arn <arn>', "aws: SageMaker execution role (default: the training job's role)"))
    .addOption(new Option('--instance-type <type>', 'aws: instance type').default('ml.m5.large'))
    .addOption(new Option('--instance-count <n>', 'aws: instance count').argParser(integer(1, 100)).default(1))
    .addOption(new Option('--region <region>', 'aws: region (default: the SDK default)'))
    .addOption(new Option('--wait-timeout <minutes>', 'aws: how long to wait for InService').argParser(integer(1, 600)).default(30))
    .addOption(jsonOption());
  return command.action(async (options: DeployOptions) => {
    // Loaded on use: the model server, TensorFlow.js and the SDK clients cost nothing to other commands.
    const { deploy } = await import('./deploy-run.js');
    process.exitCode = await deploy(options, command);
  });
}
