import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@scones/stack-core';
import { extractZip, readZipDirectory, ZIP_LIMITS } from './zip-archive';

export interface StoredCode {
  /** SHA-256 of the .zip, hex. */
  sha256: string;
  size: number;
  /** The extracted package: the function's task root (LAMBDA_TASK_ROOT). */
  root: string;
}

/**
 * Deployment packages by content: `<dir>/<sha256>.zip` (served back as GetFunction's
 * Code.Location) and `<dir>/<sha256>/`, the extracted tree the function runs from. Functions with
 * the same package share one copy; a package no function uses any more is removed.
 */
export class CodeStore {
  constructor(readonly directory: string) {}

  zipPath(sha256: string): string {
    return join(this.directory, `${sha256}.zip`);
  }

  root(sha256: string): string {
    return join(this.directory, sha256);
  }

  /** Checks the archive (hostile zips are refused with a ZipArchiveError), extracts it once, keeps the zip. */
  async put(zip: Buffer): Promise<StoredCode> {
    const sha256 = createHash('sha256').update(zip).digest('hex');
    const root = this.root(sha256);
    const entries = readZipDirectory(zip, ZIP_LIMITS);
    await mkdir(this.directory, { recursive: true });
    if (!(await exists(root))) {
      try {
        await extractZip(zip, entries, root);
      } catch (error) {
        // Another request stored the same package at the same time.
        if (!(await exists(root))) throw error;
      }
    }
    if (!(await exists(this.zipPath(sha256)))) await writeFileAtomic(this.zipPath(sha256), zip);
    return { sha256, size: zip.length, root };
  }

  async readZip(sha256: string): Promise<Buffer | undefined> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
    try {
      return await readFile(this.zipPath(sha256));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Removes packages that are not in `inUse`; with `leftovers`, also what interrupted extractions
   * left behind (only at start, when no extraction can be running).
   */
  async collect(inUse: ReadonlySet<string>, leftovers = false): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) {
      const sha = /^([0-9a-f]{64})(\.zip)?$/.exec(name)?.[1];
      if ((leftovers && name.endsWith('.tmp')) || (sha !== undefined && !inUse.has(sha))) await rm(join(this.directory, name), { recursive: true, force: true });
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
