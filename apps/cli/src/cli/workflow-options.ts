import { type Command, Option } from 'commander';
import { UsageError } from './errors';
import { DEFAULT_STACK } from './library-defaults';
import { bucketOption, decimal, s3DirOption, targetOption } from './options';

/** The options `scones run` and `scones load` share: where the workflow runs. */
export interface WorkflowTargetOptions {
  target: 'local' | 'aws';
  bucket: string;
  s3Dir: string;
  endpoint: string;
  endpointUrl?: string;
  endpointsDir?: string;
  threshold?: number;
  lambdaBundles?: string;
  retryIntervalScale: number;
  stateMachineArn?: string;
  batchStateMachineArn?: string;
  stack: string;
  region?: string;
}

/** Adds the workflow target options; only option definitions here, so that defining `run` and `load` loads no session code. */
export function addWorkflowTargetOptions(command: Command, { batch }: { batch: boolean }): Command {
  command
    .addOption(targetOption())
    .addOption(bucketOption())
    .addOption(s3DirOption())
    .addOption(new Option('--endpoint <name>', 'local: the endpoint classify invokes (ENDPOINT_NAME), found in the endpoint registry').env('SCONES_ENDPOINT').default('scones-endpoint'))
    .addOption(new Option('--endpoint-url <url>', 'local: its SageMaker Runtime URL instead of the registry entry'))
    .addOption(new Option('--endpoints-dir <dir>', 'local: endpoint registry directory').env('SCONES_ENDPOINTS_DIR'))
    .addOption(new Option('--threshold <p>', "local: the filter's THRESHOLD (default: the deployed model's threshold.value from its manifest)").argParser(decimal(0, 1)))
    .addOption(
      new Option('--lambda-bundles <dir>', 'local: prebuilt bundles <dir>/<function>/main.js (default: dist/apps, rebuilt first when missing or older than their sources)').env(
        'SCONES_LAMBDA_BUNDLES',
      ),
    )
    .addOption(new Option('--retry-interval-scale <x>', "local: multiply the definition's Retry intervals (1 s, 2 s, 4 s) by this").argParser(decimal(0, 1)).default(1))
    .addOption(new Option('--state-machine-arn <arn>', 'aws: the single-image state machine (default: from the stack outputs)'));
  if (batch) command.addOption(new Option('--batch-state-machine-arn <arn>', 'aws: the batch state machine for --all (default: from the stack outputs)'));
  return command
    .addOption(new Option('--stack <name>', 'aws: the deployed Scones stack to read ARNs and the bucket from').env('SCONES_STACK').default(DEFAULT_STACK))
    .addOption(new Option('--region <region>', 'aws: region (default: the SDK configuration)'));
}

const LOCAL_ONLY = ['endpointUrl', 'threshold', 'lambdaBundles', 'retryIntervalScale'] as const;
const AWS_ONLY = ['stateMachineArn', 'batchStateMachineArn', 'stack', 'region'] as const;
const flag = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Refuses options that do not apply to the chosen target (a silently ignored option misleads). */
export function checkTargetOptions(command: Command, options: WorkflowTargetOptions): void {
  const given = (name: string) => command.getOptionValueSource(name) === 'cli';
  const wrong = options.target === 'aws' ? LOCAL_ONLY.filter(given) : AWS_ONLY.filter(given);
  if (wrong.length) throw new UsageError(`${wrong.map(flag).join(', ')} ${wrong.length > 1 ? 'apply' : 'applies'} to --target ${options.target === 'aws' ? 'local' : 'aws'} only`);
}
