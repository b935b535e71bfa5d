import { stackTarget, type Target } from '@scones/local-cloud';
import { connectOrStartStack, type StackConnection } from '@scones/local-stack';
import { createJsonLogger } from '@scones/stack-core';
import type { Output } from './output';
import { cliWorkerCommand } from './stack-options';

/** Where a command's AWS calls go, opened: the same SDK calls either way, only the endpoint differs. */
export interface OpenedTarget {
  kind: 'local' | 'aws';
  /** For the client factories of @scones/local-cloud. */
  target: Target;
  /** The local stack's URL (local only). */
  url?: string;
  /** True when this command started the local stack itself (it stops with {@link OpenedTarget.close}). */
  ownsStack: boolean;
  stack?: StackConnection;
  close(): Promise<void>;
}

export interface TargetOptions {
  target: 'local' | 'aws';
  dataDir: string;
  region?: string;
}

/**
 * Opens the command's target. `aws`: the SDK's defaults. `local`: the stack serving `--data-dir`
 * (`scones up`), or — when none runs — one started in this process for the command's duration,
 * so every command works with and without a running stack.
 */
export async function openTarget(options: TargetOptions, output: Output): Promise<OpenedTarget> {
  if (options.target === 'aws') return { kind: 'aws', target: { kind: 'aws', region: options.region }, ownsStack: false, close: async () => undefined };
  const stack = await connectOrStartStack({
    dataDir: options.dataDir,
    workerCommand: cliWorkerCommand(),
    // The command's own output stays readable: the stack it starts reports only problems.
    logger: createJsonLogger({ level: 'warn', base: { service: 'local-stack' } }),
  });
  if (stack.owned) output.info(`scones: started a local stack at ${stack.url} for this command (data in ${stack.dataDir}; \`scones up\` keeps one running)`);
  return { kind: 'local', target: stackTarget(stack.url, stack.region), url: stack.url, ownsStack: stack.owned, stack, close: () => stack.close() };
}
