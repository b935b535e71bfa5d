import { DEFAULT_BUCKET_LAYOUT, type BucketLayout } from '@scones/payload-schemas';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { StageOutputError } from '../errors';
import { stageLayout, type SinkWriteResult, type StagedFile, type StageSink } from './stage-sink';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function outputError(action: string, path: string, error: unknown): StageOutputError {
  return new StageOutputError(`cannot ${action} ${path}: ${(error as Error).message}`);
}

/**
 * Stages into `<root>/data/...`. Everything is written under a hidden staging directory inside
 * `root` first; `commit` then swaps `data/train` and `data/test` into place and renames the
 * manifests last, so an interrupted run never leaves a half-written set that looks complete,
 * and a re-run replaces the previous set exactly.
 */
export function directorySink(root: string, options: { layout?: BucketLayout } = {}): StageSink {
  const out = resolve(root);
  const layout = stageLayout(options.layout);
  const staging = join(out, `.scones-stage-${process.pid}-${randomBytes(4).toString('hex')}`);
  const made = new Set<string>();
  let keepStaging = false;

  const ensureDir = (dir: string) => {
    if (made.has(dir)) return;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw outputError('create directory', dir, error);
    }
    made.add(dir);
  };

  // Synchronous on purpose: a 2.5 KB PNG is written in ~20 us, less than a thread-pool round trip
  // costs, and the decompressor runs on its own thread, so nothing waits for these writes.
  const putNow = (file: StagedFile) => {
    const path = join(staging, file.key);
    ensureDir(dirname(path));
    try {
      writeFileSync(path, file.body);
    } catch (error) {
      throw outputError('write', path, error);
    }
  };

  return {
    // A directory is named without the prefix's trailing slash, as `ls` and shells print it.
    location: join(out, (options.layout ?? DEFAULT_BUCKET_LAYOUT).dataPrefix).replace(/(.)\/+$/, '$1'),

    async write(files, { signal, onWritten }): Promise<SinkWriteResult> {
      const result: SinkWriteResult = { written: 0, skipped: 0, bytes: 0 };
      for await (const file of files) {
        if (signal?.aborted) break;
        putNow(file);
        result.written++;
        result.bytes += file.body.length;
        onWritten?.(result.written);
      }
      if (signal?.aborted) throw signal.reason;
      return result;
    },

    async remove(keys) {
      await Promise.all(keys.map((key) => rm(join(staging, key), { force: true })));
    },

    async commit(manifests, staged) {
      for (const manifest of manifests) putNow(manifest);
      const dirs = [layout.trainDir, layout.testDir];
      for (const dir of dirs) ensureDir(dirname(join(out, dir)));
      for (const dir of dirs) ensureDir(join(staging, dir)); // a class set with no test rows still gets an (empty) directory
      // Directories first, the manifests last: they are what says the set is complete.
      const swaps = [...dirs, ...manifests.map((m) => m.key)].map((key) => ({
        key,
        target: join(out, key),
        fresh: join(staging, key),
        previous: join(staging, 'previous', key.replace('/', '-')),
        moved: false,
        placed: false,
      }));
      let removedStale = 0;
      try {
        ensureDir(join(staging, 'previous'));
        for (const swap of swaps) {
          if (await exists(swap.target)) {
            await rename(swap.target, swap.previous);
            swap.moved = true;
            if (dirs.includes(swap.key as (typeof dirs)[number])) {
              removedStale += (await readdir(swap.previous)).filter((name) => !staged.has(`${swap.key}/${name}`)).length;
            }
          }
          await rename(swap.fresh, swap.target);
          swap.placed = true;
        }
      } catch (error) {
        // Put the previous set back: a failed commit loses nothing (abort() then removes the staging directory).
        const stranded: string[] = [];
        for (const swap of swaps.reverse()) {
          if (swap.placed) await rename(swap.target, swap.fresh).catch(() => undefined);
          if (swap.moved) await rename(swap.previous, swap.target).catch(() => stranded.push(swap.previous));
        }
        if (stranded.length) {
          keepStaging = true; // it holds the only copy of what could not be put back
          throw new StageOutputError(
            `cannot move the staged files into ${out}: ${(error as Error).message}; the previous set could not be put back either: it is in ${stranded.join(', ')}`,
          );
        }
        throw outputError('move the staged files into', out, error);
      }
      await rm(staging, { recursive: true, force: true });
      return { written: 0, skipped: 0, bytes: 0, removedStale };
    },

    async abort() {
      if (keepStaging) return;
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
