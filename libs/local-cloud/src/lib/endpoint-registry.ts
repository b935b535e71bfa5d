import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { endpointNameSchema, endpointRegistrationSchema, parseJsonOrThrow, parseOrThrow, PayloadValidationError, type EndpointRegistration } from '@scones/payload-schemas';
import { LocalCloudError } from '../errors';

/** Where local endpoints are registered unless told otherwise (relative to the working directory). */
export const DEFAULT_ENDPOINTS_DIRECTORY = '.scones/endpoints';

/** A registry file is unreadable, or an endpoint name is taken or unknown. */
export class EndpointRegistryError extends LocalCloudError {
  override readonly name = 'EndpointRegistryError';
}

export interface EndpointRegistryOptions {
  /** Default `SCONES_ENDPOINTS_DIR` or `.scones/endpoints`. */
  directory?: string;
}

/**
 * Whether a process is running (signal 0 checks without sending anything). A zombie — exited,
 * not yet reaped by its parent — is not: a detached endpoint's parent is gone, and some inits
 * (containers) reap orphans only every second or so.
 */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** Linux: the state field of /proc/<pid>/stat is `Z` for a zombie. Elsewhere: unknown, false. */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (comm) state ...": comm may hold spaces and parentheses, so read after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
}

/**
 * The local endpoints running on this machine, one JSON file per endpoint
 * (`<directory>/<name>.json`), so any process can find an endpoint's URL by name. Entries whose
 * process has died are dropped when read.
 */
export class EndpointRegistry {
  readonly directory: string;

  constructor(options: EndpointRegistryOptions = {}) {
    this.directory = resolve(options.directory ?? process.env.SCONES_ENDPOINTS_DIR ?? DEFAULT_ENDPOINTS_DIRECTORY);
  }

  /**
   * Records a running endpoint (written atomically). Refuses a name that a live endpoint of
   * another process holds.
   */
  async register(entry: EndpointRegistration): Promise<void> {
    const valid = parseOrThrow(endpointRegistrationSchema, entry, 'endpoint registration');
    const existing = await this.get(valid.name);
    if (existing && existing.pid !== valid.pid) {
      throw new EndpointRegistryError(`endpoint "${valid.name}" is already running at ${existing.url} (pid ${existing.pid}); stop it or choose another --name`);
    }
    await mkdir(this.directory, { recursive: true });
    const file = this.fileOf(valid.name);
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(valid, null, 2)}\n`);
    await rename(temporary, file);
  }

  /** Removes an entry; with `pid`, only if it is that process's entry. Returns whether one was removed. */
  async unregister(name: string, options: { pid?: number } = {}): Promise<boolean> {
    const entry = await this.read(this.checkedName(name));
    if (!entry || (options.pid !== undefined && entry.pid !== options.pid)) return false;
    await rm(this.fileOf(name), { force: true });
    return true;
  }

  /** The live endpoint of that name, or undefined (a stale entry is removed). */
  async get(name: string): Promise<EndpointRegistration | undefined> {
    const entry = await this.read(this.checkedName(name));
    if (!entry) return undefined;
    if (processIsAlive(entry.pid)) return entry;
    await rm(this.fileOf(name), { force: true });
    return undefined;
  }

  /** Every live endpoint, by name. */
  async list(): Promise<EndpointRegistration[]> {
    let files: string[];
    try {
      files = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const names = files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
    const entries = await Promise.all(names.filter((n) => endpointNameSchema.safeParse(n).success).map((n) => this.get(n)));
    return entries.filter((e): e is EndpointRegistration => e !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Stops a registered endpoint of another process: SIGTERM (it flushes its data capture and
   * exits), then waits up to `timeoutMs` for the process to end, then removes the entry.
   * Returns false if no such endpoint runs.
   */
  async stop(name: string, { timeoutMs = 15_000 }: { timeoutMs?: number } = {}): Promise<boolean> {
    const entry = await this.get(name);
    if (!entry) return false;
    try {
      process.kill(entry.pid, 'SIGTERM');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw new EndpointRegistryError(`cannot stop endpoint "${name}" (pid ${entry.pid}): ${(error as Error).message}`);
    }
    const deadline = Date.now() + timeoutMs;
    while (processIsAlive(entry.pid)) {
      if (Date.now() > deadline) throw new EndpointRegistryError(`endpoint "${name}" (pid ${entry.pid}) did not stop within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.unregister(name, { pid: entry.pid });
    return true;
  }

  private fileOf(name: string): string {
    return join(this.directory, `${name}.json`);
  }

  private checkedName(name: string): string {
    try {
      return parseOrThrow(endpointNameSchema, name, 'endpoint name');
    } catch (error) {
      throw new EndpointRegistryError((error as Error).message);
    }
  }

  private async read(name: string): Promise<EndpointRegistration | undefined> {
    const file = this.fileOf(name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new EndpointRegistryError(`cannot read ${file}: ${(error as Error).message}`);
    }
    try {
      return parseJsonOrThrow(endpointRegistrationSchema, text, file);
    } catch (error) {
      if (error instanceof PayloadValidationError) throw new EndpointRegistryError(`${(error as Error).message} (delete the file if the endpoint is gone)`);
      throw error;
    }
  }
}
