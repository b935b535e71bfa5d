import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes a file so that readers see the old content or the new one, never a part: a temporary
 * file beside it (same file system), then rename. The temporary name ends in `.tmp` so a crash
 * leaves only names that {@link isTemporaryFile} recognizes and start-up can remove.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Names written by {@link writeFileAtomic} that were never renamed (a crash mid-write). */
export function isTemporaryFile(name: string): boolean {
  return /\.\d+-[0-9a-f]{8}\.tmp$/.test(name);
}
