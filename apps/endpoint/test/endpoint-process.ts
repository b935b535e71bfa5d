// The endpoint app as the container runs it, for the app's tests: the bundle built with the options
// of project.json, beside a node_modules (the container's layout), started as its own Node process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { WORKSPACE_ROOT, buildLambdaBundle, type Bundle } from '../../../tools/lambda-bundles';

export interface Running {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Builds the endpoint bundle into `<work>/bundle`, with a node_modules link to the workspace's packages. */
export async function buildEndpointBundle(work: string): Promise<Bundle> {
  const outdir = join(work, 'bundle');
  await mkdir(outdir, { recursive: true });
  await symlink(join(WORKSPACE_ROOT, 'node_modules'), join(outdir, 'node_modules'), 'dir');
  return buildLambdaBundle('endpoint', { outdir });
}

export function startEndpoint(bundle: Bundle, args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [bundle.file, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  let text = '';
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, logs, stderr: () => text, exited };
}

/** Polls until `probe` gives a value; fails naming `what` once the deadline has passed (never after a fixed count). */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the endpoint and waits until it serves (/ping 200); returns it with its URL. */
export async function startServing(bundle: Bundle, env: Record<string, string>): Promise<Running & { url: string }> {
  const app = startEndpoint(bundle, ['serve'], { PORT: '0', SCONES_HOST: '127.0.0.1', ...env });
  const url = await until('the listening log line', () => {
    if (app.child.exitCode !== null) throw new Error(`the endpoint exited with code ${app.child.exitCode}: ${app.stderr()}`);
    return app.logs.find((l) => l.message === 'model server listening')?.url as string | undefined;
  });
  await until('/ping 200', async () => ((await fetch(`${url}/ping`)).status === 200 ? true : undefined));
  return { ...app, url };
}
