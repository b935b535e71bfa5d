import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ChecksumMismatchError } from '../errors';
import { DEFAULT_CLASSES } from './class-selection';
import { fetchCifarArchive, type FetchArchiveOptions } from './download';

/**
 * The real CIFAR-100 rows shipped in the repository (`libs/cifar-decoder/data/`): every bicycle
 * and motorcycle row of the official archive (500 + 500 train, 100 + 100 test) in its exact
 * layout, so the default classes stage without the network. data/README.md says where it comes from.
 */
export const BUNDLED_SUBSET = {
  fileName: 'cifar-100-python-bicycle-motorcycle.tar.gz',
  md5: 'e4b38c84770ab533f8bce1c0ab9ef243',
  bytes: 3_313_588,
  classes: ['bicycle', 'motorcycle'] as readonly string[],
  /** Where it sits in the repository. */
  directory: 'libs/cifar-decoder/data',
} as const;

/**
 * Where the archive to stage comes from:
 * - `file`: a file the user gave (`--source`, `SCONES_CIFAR_SOURCE`); never touches the network;
 * - `bundled`: the subset shipped in the repository (the default classes);
 * - `download`: the full official archive, downloaded once into the cache (md5-checked, resumable).
 */
export type CifarSource =
  | { kind: 'file'; path: string }
  | { kind: 'bundled'; path: string }
  | { kind: 'download'; reason: 'asked' | 'classes' | 'no-bundle' };

export type CifarSourceKind = CifarSource['kind'];

export interface ResolveCifarSourceOptions {
  /** The classes to stage. Default bicycle, motorcycle. */
  classes?: readonly string[];
  /** A given archive: wins over everything else. */
  source?: string;
  /** The full archive was asked for explicitly (e.g. `--download`). */
  download?: boolean;
  /** The bundled subset's path; default {@link bundledSubsetPath}(). `null`: behave as if there were none. */
  bundledArchive?: string | null;
}

/**
 * The bundled subset's path, or undefined when this installation does not have it. Looked for
 * next to this module's source (tests, ts-node) and under `SCONES_ROOT` / the working directory
 * (the CLI runs as a bundle elsewhere, and `tools/scones.js` sets SCONES_ROOT to the repository).
 */
export function bundledSubsetPath(): string | undefined {
  const candidates = [
    resolve(__dirname, '../../data', BUNDLED_SUBSET.fileName),
    ...[process.env.SCONES_ROOT, process.cwd()].filter((root): root is string => Boolean(root)).map((root) => join(resolve(root), BUNDLED_SUBSET.directory, BUNDLED_SUBSET.fileName)),
  ];
  return candidates.find((path) => existsSync(path));
}

/**
 * Chooses the archive for a class list, without any I/O but looking for the bundled file: a
 * given file wins; then an explicit download; then the bundled subset when it holds every class
 * asked for; otherwise the full archive is downloaded. The `stage` command and the demo share it.
 */
export function resolveCifarSource(options: ResolveCifarSourceOptions = {}): CifarSource {
  if (options.source) return { kind: 'file', path: options.source };
  if (options.download) return { kind: 'download', reason: 'asked' };
  const classes = options.classes ?? DEFAULT_CLASSES;
  if (!classes.every((name) => BUNDLED_SUBSET.classes.includes(name))) return { kind: 'download', reason: 'classes' };
  const bundled = options.bundledArchive === undefined ? bundledSubsetPath() : (options.bundledArchive ?? undefined);
  return bundled ? { kind: 'bundled', path: bundled } : { kind: 'download', reason: 'no-bundle' };
}

/** One line for people: which source, and why (for the first lines of `stage` and the demo). */
export function describeCifarSource(source: CifarSource): string {
  switch (source.kind) {
    case 'file':
      return `given file ${source.path}`;
    case 'bundled':
      return `bundled subset ${source.path} (the real CIFAR-100 ${BUNDLED_SUBSET.classes.join(' and ')} rows, shipped in the repository; no download)`;
    case 'download': {
      const why = {
        asked: 'asked for',
        classes: `the bundled subset holds only ${BUNDLED_SUBSET.classes.join(' and ')}`,
        'no-bundle': `${BUNDLED_SUBSET.directory}/${BUNDLED_SUBSET.fileName} is not in this installation`,
      }[source.reason];
      return `downloaded archive: the full CIFAR-100 (161 MB, md5-checked, cached) because ${why}`;
    }
  }
}

/** The archive file to stage for a resolved source, and whether it was downloaded now. */
export interface ObtainedCifarSource {
  source: CifarSource;
  path: string;
  /** True when the download happened now (false: a verified cached copy, a bundled or given file). */
  downloaded: boolean;
}

async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The file for a resolved source: a given file as it is (staging names any problem with it),
 * the bundled subset after checking its MD5 (a damaged checkout is named, never staged), or the
 * full archive from `fetchCifarArchive` (`fetch`: URL, checksum, cache, progress, signal).
 */
export async function obtainCifarSource(source: CifarSource, fetch: FetchArchiveOptions = {}): Promise<ObtainedCifarSource> {
  if (source.kind === 'file') return { source, path: source.path, downloaded: false };
  if (source.kind === 'bundled') {
    const md5 = await md5OfFile(source.path);
    if (md5 !== BUNDLED_SUBSET.md5) {
      throw new ChecksumMismatchError(
        `${source.path}: MD5 of the bundled subset is ${md5}, expected ${BUNDLED_SUBSET.md5} (a damaged checkout, or a Git LFS pointer?); restore it from the repository, or stage from another archive`,
      );
    }
    return { source, path: source.path, downloaded: false };
  }
  const fetched = await fetchCifarArchive(fetch);
  return { source, path: fetched.path, downloaded: fetched.downloaded };
}
