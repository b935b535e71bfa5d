import {
  findRunningStack,
  formatEnvironment,
  stackEnvironment,
  startDetachedStack,
  startStack,
  stopRunningStack,
  type StackStatus,
} from '@scones/local-stack';
import { createJsonLogger, parseLogLevel } from '@scones/stack-core';
import { runCommand } from '../cli/run-command';
import { cliCommand, cliWorkerCommand } from '../cli/stack-options';
import type { DownOptions, EnvOptions, StatusOptions, UpOptions } from './up';

/** Set in the process a `scones up --detach` starts, so it serves instead of detaching again. */
const DETACHED_CHILD_ENV = 'SCONES_UP_DETACHED_CHILD';

/** `scones up`: resolves to the exit code (0 when it was stopped cleanly, by Ctrl-C or `scones down`). */
export async function up(options: UpOptions): Promise<number> {
  let servedUntilStopped = false;
  const code = await runCommand('up', options, async ({ output, signal }) => {
    if (options.detach && !process.env[DETACHED_CHILD_ENV]) {
      const instance = await startDetachedStack({
        dataDir: options.dataDir,
        command: [...cliCommand(), 'up', '--port', String(options.port), '--data-dir', options.dataDir],
        env: { ...process.env, [DETACHED_CHILD_ENV]: '1' },
        signal,
      });
      output.result({ ok: true, command: 'up', detached: true, url: instance.url, pid: instance.pid, dataDir: instance.dataDir, log: instance.logFile }, () =>
        [
          `local stack serving at ${instance.url} (pid ${instance.pid}, detached)`,
          `data     ${instance.dataDir}`,
          `log      ${instance.logFile}`,
          `use      eval "$(scones env)"   # then any AWS SDK, boto3 or the AWS CLI talks to it`,
          'stop     scones down',
        ].join('\n'),
      );
      return;
    }
    const logger = createJsonLogger({ level: parseLogLevel(process.env.SCONES_LOG_LEVEL, 'info'), base: { service: 'local-stack' } });
    let requestStop!: () => void;
    const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
    const stack = await startStack({ dataDir: options.dataDir, port: options.port, logger, workerCommand: cliWorkerCommand(), onShutdownRequest: () => requestStop() });
    try {
      const status = await stack.status();
      output.result({ ok: true, command: 'up', url: stack.url, pid: process.pid, dataDir: stack.dataDir, services: Object.keys(status.services) }, () =>
        [
          `local stack serving at ${stack.url} (pid ${process.pid})`,
          `services ${Object.keys(status.services).join(', ')}`,
          `data     ${stack.dataDir}`,
          `use      eval "$(scones env)"   # then any AWS SDK, boto3 or the AWS CLI talks to it`,
          'stop     Ctrl-C, or `scones down` from another shell',
        ].join('\n'),
      );
      await Promise.race([stopRequested, new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })))]);
      output.info('scones up: stopping: endpoints flush their data capture, then the stack stops');
    } finally {
      await stack.close();
    }
    servedUntilStopped = true;
  });
  return servedUntilStopped ? 0 : code;
}

/** `scones down`. */
export async function down(options: DownOptions): Promise<number> {
  return runCommand('down', options, async ({ output }) => {
    const stopped = await stopRunningStack(options.dataDir);
    if (!stopped) {
      output.result({ ok: true, command: 'down', stopped: false, dataDir: options.dataDir }, () => `no local stack is running on ${options.dataDir}`);
      return;
    }
    output.result({ ok: true, command: 'down', stopped: true, url: stopped.url, pid: stopped.pid, dataDir: stopped.dataDir }, () => `stopped the local stack at ${stopped.url} (pid ${stopped.pid})`);
  });
}

/** `scones status`: exit 1 when no stack runs on the data directory. */
export async function status(options: StatusOptions): Promise<number> {
  let running = true;
  const code = await runCommand('status', options, async ({ output }) => {
    const instance = await findRunningStack(options.dataDir);
    if (!instance) {
      running = false;
      output.result({ ok: true, command: 'status', running: false, dataDir: options.dataDir }, () => `no local stack is running on ${options.dataDir} (start one with \`scones up\`)`);
      return;
    }
    const answer = await fetch(new URL('/_scones/status', instance.url), { signal: AbortSignal.timeout(10_000) });
    const body = (await answer.json()) as StackStatus;
    output.result({ ok: true, command: 'status', running: true, ...body }, () => describeStatus(body));
  });
  return code === 0 && !running ? 1 : code;
}

/** Human rendering of `/_scones/status`: one block per service that has something to show. */
function describeStatus(status: StackStatus): string {
  const lines = [`local stack at ${status.url} (pid ${status.pid}, since ${status.startedAt})`, `data     ${status.dataDir}`];
  for (const [service, summary] of Object.entries(status.services)) {
    const entries = Object.entries(summary ?? {});
    if (entries.length === 0) continue;
    lines.push(`${service}:`);
    for (const [key, value] of entries) lines.push(`  ${key}: ${typeof value === 'string' || typeof value === 'number' ? value : JSON.stringify(value)}`);
  }
  return lines.join('\n');
}

/** `scones env`. */
export async function env(options: EnvOptions): Promise<number> {
  return runCommand('env', {}, async ({ output }) => {
    const instance = await findRunningStack(options.dataDir);
    const url = instance?.url ?? `http://127.0.0.1:${options.port}`;
    if (!instance) output.info(`scones env: no local stack is running on ${options.dataDir}; these point at ${url} (start it with \`scones up\`)`);
    process.stdout.write(`${formatEnvironment(stackEnvironment(url), options.format)}\n`);
  });
}
