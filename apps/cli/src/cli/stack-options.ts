import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option } from 'commander';
import { integer } from './options';

/** `DEFAULT_DATA_DIR` / `DEFAULT_STACK_PORT` of @scones/local-stack (spelled out: defining commands loads no library). */
export const DEFAULT_DATA_DIR = '.scones';
export const DEFAULT_STACK_PORT = 4566;

/** `--data-dir`: the local stack's state (objects, models, endpoints, functions, executions…). */
export const dataDirOption = () =>
  new Option('--data-dir <dir>', 'data directory of the local stack (everything it stores survives a restart)').env('SCONES_DATA_DIR').default(DEFAULT_DATA_DIR);

/** Where `scones report` and `scones demo` write reports unless `--out` says otherwise: beside the stack's data. */
export function defaultReportsDir(dataDir: string): string {
  return join(dataDir, 'reports');
}

/** `--port` of `scones up`. */
export const stackPortOption = () =>
  new Option('--port <port>', 'port on 127.0.0.1 (0: a free one)').argParser(integer(0, 65535)).env('SCONES_PORT').default(DEFAULT_STACK_PORT);

/**
 * How the stack started by this CLI runs its worker processes (endpoints, training jobs, Lambda
 * runtimes). In a source checkout: the stack's own lean worker entry (bundled and cached by
 * tools/run-ts.js), so a Lambda cold start does not load the whole CLI. From a built dist/apps/cli
 * without sources: this same CLI with the hidden `__stack-worker` command.
 */
export function cliWorkerCommand(): string[] {
  const root = process.env.SCONES_ROOT;
  const entry = root ? join(root, 'libs/local-stack/src/worker-main.ts') : undefined;
  if (root && entry && existsSync(entry)) return [process.execPath, join(root, 'tools/run-ts.js'), entry];
  return [process.execPath, ...process.execArgv, resolve(process.argv[1]), STACK_WORKER_COMMAND];
}

/** The command line of this CLI itself (launcher or built main), for the processes it starts. */
export function cliCommand(): string[] {
  return [process.execPath, ...process.execArgv, resolve(process.argv[1])];
}

export const STACK_WORKER_COMMAND = '__stack-worker';
