import { Command, InvalidArgumentError } from 'commander';
import { jsonOption } from '../cli/options';
import { dataDirOption, stackPortOption } from '../cli/stack-options';

export interface UpOptions {
  port: number;
  dataDir: string;
  detach?: boolean;
  json?: boolean;
}

/** `scones up`: the local stack as one long-running process at one URL. */
export function upCommand(): Command {
  const command = new Command('up')
    .description('start the local AWS stack (S3, SageMaker, Step Functions, Lambda, SNS, CloudWatch Logs) at one URL for any SDK, the AWS CLI and boto3; Ctrl-C stops it')
    .addOption(stackPortOption())
    .addOption(dataDirOption())
    .option('--detach', 'run in the background and return once it serves (stop it with `scones down`)')
    .addOption(jsonOption());
  return command.action(async (options: UpOptions) => {
    const { up } = await import('./stack-run.js');
    process.exitCode = await up(options);
  });
}

export interface DownOptions {
  dataDir: string;
  json?: boolean;
}

/** `scones down`. */
export function downCommand(): Command {
  const command = new Command('down').description('stop the local stack serving the data directory (endpoints flush their data capture first)').addOption(dataDirOption()).addOption(jsonOption());
  return command.action(async (options: DownOptions) => {
    const { down } = await import('./stack-run.js');
    process.exitCode = await down(options);
  });
}

export interface StatusOptions {
  dataDir: string;
  json?: boolean;
}

/** `scones status`. */
export function statusCommand(): Command {
  const command = new Command('status')
    .description('show the running local stack: URL, pid, data directory, buckets, endpoints, training jobs, functions, state machines, topics (exit 1 when none runs)')
    .addOption(dataDirOption())
    .addOption(jsonOption());
  return command.action(async (options: StatusOptions) => {
    const { status } = await import('./stack-run.js');
    process.exitCode = await status(options);
  });
}

export interface EnvOptions {
  dataDir: string;
  port: number;
  format: 'shell' | 'dotenv' | 'json';
}

/** `scones env`. */
export function envCommand(): Command {
  const command = new Command('env')
    .description('print the environment that points any AWS SDK or the AWS CLI at the local stack: eval "$(scones env)"')
    .addOption(dataDirOption())
    .addOption(stackPortOption())
    .option('--format <format>', 'shell (export lines), dotenv or json', (value: string) => {
      if (value !== 'shell' && value !== 'dotenv' && value !== 'json') throw new InvalidArgumentError(`expected shell, dotenv or json, got ${JSON.stringify(value)}`);
      return value;
    })
    .action(async (options: EnvOptions) => {
      const { env } = await import('./stack-run.js');
      process.exitCode = await env({ ...options, format: options.format ?? 'shell' });
    });
  return command;
}
