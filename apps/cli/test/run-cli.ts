// Runs the `scones` command as a user does: a child process of the launcher (tools/scones.js).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const LAUNCHER = join(__dirname, '../../../tools/scones.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `scones <args>` to completion. */
export function scones(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LAUNCHER, ...args], { timeout: timeoutMs, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Starts `scones <args>` and leaves it running (a server such as `scones up`). */
export function sconesProcess(args: string[], env: Record<string, string | undefined> = {}): { child: ChildProcess; output: () => { stdout: string; stderr: string }; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [LAUNCHER, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Waits for a condition (never a fixed sleep): polls until it holds or the deadline passes. */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, { timeoutMs = 60_000, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
