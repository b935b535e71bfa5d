import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { lambdaNodeRuntimeMain } from './lambda/node-runtime-worker';

/**
 * Processes the stack starts (an endpoint's model server, a training job, a Node.js Lambda
 * runtime) run this library's code in a new Node.js process: `<workerCommand> <kind> [args…]`.
 * Each kind's main is loaded only in the process that runs it.
 */
export type WorkerMain = (args: string[]) => Promise<number>;

const WORKERS: Record<string, () => Promise<WorkerMain>> = {
  // Each service registers its worker kinds here.
  endpoint: async () => (await import('./sagemaker/endpoint-worker.js')).endpointWorkerMain,
  training: async () => (await import('./sagemaker/training-worker.js')).trainingWorkerMain,
  'lambda-nodejs': async () => lambdaNodeRuntimeMain,
};

/** Runs the worker named by `argv[0]`; resolves to its exit code. */
export async function runStackWorker(argv: string[]): Promise<number> {
  const [kind, ...args] = argv;
  const load = kind !== undefined && Object.hasOwn(WORKERS, kind) ? WORKERS[kind] : undefined;
  if (!load) {
    process.stderr.write(`scones stack worker: unknown kind ${JSON.stringify(kind)}; known: ${Object.keys(WORKERS).join(', ')}\n`);
    return 2;
  }
  return (await load())(args);
}

/** The workspace this code runs from: `SCONES_ROOT` (set by the launcher), else the nearest nx.json. */
export function workspaceRoot(): string {
  if (process.env.SCONES_ROOT) return process.env.SCONES_ROOT;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

/**
 * How to start a worker when the caller does not say: the worker entry of this library's sources,
 * bundled on the fly by tools/run-ts.js (the CLI passes its own command instead, which also works
 * from a built dist/ without sources).
 */
export function defaultWorkerCommand(): string[] {
  const root = workspaceRoot();
  return [process.execPath, join(root, 'tools/run-ts.js'), resolve(root, 'libs/local-stack/src/worker-main.ts')];
}
