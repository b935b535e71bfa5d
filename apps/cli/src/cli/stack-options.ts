import { resolve } from 'node:path';
import { Option } from 'commander';
import { integer } from './options';

/** `DEFAULT_DATA_DIR` / `DEFAULT_STACK_PORT` of @scones/local-stack (spelled out: defining commands loads no library). */
export const DEFAULT_DATA_DIR = '.scones';
export const DEFAULT_STACK_PORT = 4566;

/** `--data-dir`: the local stack's state (objects, models, endpoints, functions, executions…). */
export const dataDirOption = () =>
  new Option('--data-dir <dir>', 'data directory of the local stack (everything it stores survives a restart)').env('SCONES_DATA_DIR').default(DEFAULT_DATA_DIR);

/** `--port` of `scones up`. */
export const stackPortOption = () =>
  new Option('--port <port>', 'port on 127.0.0.1 (0: a free one)').argParser(integer(0, 65535)).env('SCONES_PORT').default(DEFAULT_STACK_PORT);

/**
 * How the stack started by this CLI runs its worker processes (endpoints, training jobs, Lambda
 * runtimes): this same CLI with the hidden `__stack-worker` command, so it works from the source
 * launcher (tools/scones.js) and from a built dist/apps/cli alike.
 */
export function cliWorkerCommand(): string[] {
  return [process.execPath, ...process.execArgv, resolve(process.argv[1]), STACK_WORKER_COMMAND];
}

export const STACK_WORKER_COMMAND = '__stack-worker';
