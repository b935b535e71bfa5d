import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import { StackInstanceError } from '../errors';
import { writeFileAtomic } from './store/atomic-file';

/** The file in the data directory that says which stack serves it: one stack per data directory. */
export const INSTANCE_FILE = 'stack.json';

const instanceSchema = z.object({
  pid: z.number().int().positive(),
  instanceId: z.string().min(8),
  dataDir: z.string(),
  state: z.enum(['starting', 'running']),
  startedAt: z.string(),
  url: z.string().optional(),
  port: z.number().int().optional(),
});

export type StackInstance = z.output<typeof instanceSchema>;
export type RunningStackInstance = StackInstance & { state: 'running'; url: string; port: number };

/** Whether a process exists (signal 0 sends nothing) and is not a zombie. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** The instance file of `dataDir` as written (not verified: see {@link findRunningStack}). */
export async function readInstanceFile(dataDir: string): Promise<StackInstance | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, INSTANCE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StackInstanceError(`cannot read ${join(dataDir, INSTANCE_FILE)}: ${(error as Error).message}`);
  }
  try {
    const parsed = instanceSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Asks a stack at `url` who it is; undefined when nothing answers like a scones stack. */
export async function probeStack(url: string, timeoutMs = 1500): Promise<{ instanceId: string; pid: number; ready: boolean } | undefined> {
  try {
    const answer = await fetch(new URL('/_scones/health', url), { signal: AbortSignal.timeout(timeoutMs) });
    if (!answer.ok) return undefined;
    const body = (await answer.json()) as { instanceId?: unknown; pid?: unknown; ready?: unknown };
    if (typeof body.instanceId !== 'string' || typeof body.pid !== 'number') return undefined;
    return { instanceId: body.instanceId, pid: body.pid, ready: body.ready === true };
  } catch {
    return undefined;
  }
}

/**
 * The stack serving `dataDir`, verified: its instance file parses, its process exists, and the
 * stack at its URL answers with the same instance id and pid. A pid read from a file is never
 * trusted on its own — a stale file may name any process.
 */
export async function findRunningStack(dataDir: string): Promise<RunningStackInstance | undefined> {
  const directory = resolve(dataDir);
  const instance = await readInstanceFile(directory);
  if (!instance || instance.state !== 'running' || !instance.url || instance.port === undefined) return undefined;
  if (!processExists(instance.pid)) return undefined;
  const answer = await probeStack(instance.url);
  if (!answer || answer.instanceId !== instance.instanceId || answer.pid !== instance.pid) return undefined;
  return instance as RunningStackInstance;
}

export interface InstanceClaim {
  readonly instanceId: string;
  readonly dataDir: string;
  /** Records the URL once the gateway listens. */
  markRunning(url: string, port: number): Promise<void>;
  /** Removes the instance file if it is still this stack's. */
  release(): Promise<void>;
}

/**
 * Claims a data directory for this process. Refused, naming the pid, when another live stack
 * serves it (or is starting on it); a file left by a stack that died is replaced.
 */
export async function claimDataDirectory(dataDir: string): Promise<InstanceClaim> {
  const directory = resolve(dataDir);
  await mkdir(directory, { recursive: true });
  const file = join(directory, INSTANCE_FILE);
  const instanceId = randomUUID();
  const startedAt = new Date().toISOString();
  const mine = (extra: Partial<StackInstance> = {}): StackInstance => ({ pid: process.pid, instanceId, dataDir: directory, state: 'starting', startedAt, ...extra });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(`${JSON.stringify(mine(), null, 2)}\n`);
      await handle.close();
      return {
        instanceId,
        dataDir: directory,
        markRunning: (url, port) => writeFileAtomic(file, `${JSON.stringify(mine({ state: 'running', url, port }), null, 2)}\n`),
        release: async () => {
          const current = await readInstanceFile(directory).catch(() => undefined);
          if (current?.instanceId === instanceId) await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new StackInstanceError(`cannot create ${file}: ${(error as Error).message}`);
    }
    const other = await readInstanceFile(directory);
    if (other && other.pid !== process.pid && processExists(other.pid)) {
      const running = other.state === 'running' && other.url ? await probeStack(other.url) : undefined;
      const isThatStack = running?.instanceId === other.instanceId;
      // A stack still starting has no URL yet; give it the benefit of the doubt for a minute.
      const recentStart = other.state === 'starting' && Date.now() - Date.parse(other.startedAt) < 60_000;
      if (isThatStack || recentStart) {
        throw new StackInstanceError(
          `another scones stack (pid ${other.pid}) ${other.url ? `serves ${other.url} from` : 'is starting on'} ${directory}; stop it with \`scones down --data-dir ${dataDir}\` or choose another --data-dir`,
        );
      }
    }
    // Stale: the process is gone, or the pid now belongs to something that is not that stack.
    await rm(file, { force: true });
  }
  throw new StackInstanceError(`cannot claim ${directory}: ${file} keeps reappearing (another stack starting at the same time?)`);
}
