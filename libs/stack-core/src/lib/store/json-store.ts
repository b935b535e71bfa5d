import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalStackError } from '../../errors';
import { isTemporaryFile, writeFileAtomic } from './atomic-file';

/**
 * Records of one kind (models, endpoints, state machines…) persisted as one JSON file each in a
 * directory, so the stack's state survives `down`/`up`. Names are encoded into file names, so no
 * name — `..`, `a/b`, anything a client sends — can reach outside the directory. Writes are atomic.
 */
export class JsonStore<T> {
  constructor(readonly directory: string) {}

  private fileOf(name: string): string {
    // encodeURIComponent leaves `.` alone: `..` would still be a special name, so encode it too.
    return join(this.directory, `${encodeURIComponent(name).replace(/\./g, '%2E')}.json`);
  }

  async get(name: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.fileOf(name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return this.parse(text, name);
  }

  async put(name: string, value: T): Promise<void> {
    await writeFileAtomic(this.fileOf(name), `${JSON.stringify(value, null, 2)}\n`);
  }

  /** Returns whether there was a record. */
  async delete(name: string): Promise<boolean> {
    const file = this.fileOf(name);
    try {
      await rm(file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Every record, sorted by name; leftovers of interrupted writes are removed. */
  async list(): Promise<Array<{ name: string; value: T }>> {
    let files: string[];
    try {
      files = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records: Array<{ name: string; value: T }> = [];
    for (const file of files.sort()) {
      if (isTemporaryFile(file)) {
        await rm(join(this.directory, file), { force: true });
        continue;
      }
      if (!file.endsWith('.json')) continue;
      const name = decodeURIComponent(file.slice(0, -'.json'.length));
      const value = await this.get(name);
      if (value !== undefined) records.push({ name, value });
    }
    return records.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private parse(text: string, name: string): T {
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new LocalStackError(`${this.fileOf(name)}: not valid JSON (${(error as Error).message}); the stack's state is damaged — delete the file to drop "${name}"`);
    }
  }
}
