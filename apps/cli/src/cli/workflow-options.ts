import { type Command, Option } from 'commander';
import { UsageError } from './errors';
import { DEFAULT_STACK } from './library-defaults';
import { bucketOption, dataPrefixOption, decimal, targetOption } from './options';
import { dataDirOption } from './stack-options';

/** The options `scones run` and `scones load` share: where the workflow runs. */
export interface WorkflowTargetOptions {
  target: 'local' | 'aws';
  bucket: string;
  dataDir: string;
  dataPrefix: string;
  endpoint: string;
  threshold?: number;
  lambdaBundles?: string;
  definition?: string;
  stateMachineName?: string;
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
    .addOption(dataDirOption())
    .addOption(dataPrefixOption())
    .addOption(new Option('--definition <file.asl.json>', 'local: run your own state machine (e.g. exported from the Step Functions console) instead of the project\'s; created or updated on the local stack'))
    .addOption(new Option('--state-machine-name <name>', 'local, with --definition: its name on the stack (default: the file name without .asl.json/.json)'))
    .addOption(new Option('--endpoint <name>', "local: the endpoint the project's classify function invokes (ENDPOINT_NAME)").env('SCONES_ENDPOINT').default('scones-endpoint'))
    .addOption(new Option('--threshold <p>', "local: the project's filter THRESHOLD (default: the deployed model's threshold.value from its manifest)").argParser(decimal(0, 1)))
    .addOption(
      new Option('--lambda-bundles <dir>', 'local: prebuilt bundles <dir>/<app>/main.js of the three functions (default: dist/apps, rebuilt first when missing or older than their sources)').env(
        'SCONES_LAMBDA_BUNDLES',
      ),
    )
    .addOption(new Option('--state-machine-arn <arn>', 'aws: the single-image state machine (default: from the stack outputs)'));
  if (batch) command.addOption(new Option('--batch-state-machine-arn <arn>', 'aws: the batch state machine for --all (default: from the stack outputs)'));
  return command
    .addOption(new Option('--stack <name>', 'aws: the deployed Scones stack to read ARNs and the bucket from').env('SCONES_STACK').default(DEFAULT_STACK))
    .addOption(new Option('--region <region>', 'aws: region (default: the SDK configuration)'));
}

const LOCAL_ONLY = ['threshold', 'lambdaBundles', 'definition', 'stateMachineName'] as const;
const AWS_ONLY = ['stateMachineArn', 'batchStateMachineArn', 'stack', 'region'] as const;
const flag = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Refuses options that do not apply to the chosen target (a silently ignored option misleads). */
export function checkTargetOptions(command: Command, options: WorkflowTargetOptions): void {
  const given = (name: string) => command.getOptionValueSource(name) === 'cli';
  const wrong = options.target === 'aws' ? LOCAL_ONLY.filter(given) : AWS_ONLY.filter(given);
  if (wrong.length) throw new UsageError(`${wrong.map(flag).join(', ')} ${wrong.length > 1 ? 'apply' : 'applies'} to --target ${options.target === 'aws' ? 'local' : 'aws'} only`);
  if (options.definition !== undefined) {
    for (const name of ['threshold', 'lambdaBundles'] as const) {
      if (given(name)) throw new UsageError(`${flag(name)} configures the project's own functions; with --definition your state machine runs the functions you deployed (scones functions deploy)`);
    }
  } else if (given('stateMachineName')) {
    throw new UsageError('--state-machine-name applies with --definition only');
  }
}
