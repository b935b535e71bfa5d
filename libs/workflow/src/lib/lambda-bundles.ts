import { readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { LambdaBundleError } from '../errors';
import type { LambdaHandler } from './lambda-invoke';

/** Where a bundle is: `<directory>/<function name>/main.js` (the layout of `dist/apps`). */
export function lambdaBundleFile(directory: string, functionName: string): string {
  return join(resolve(directory), functionName, 'main.js');
}

export interface BundleFreshness {
  file: string;
  fresh: boolean;
  /** Why the bundle must be (re)built. */
  reason?: string;
}

async function modifiedAt(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Whether a bundle is up to date: it exists and none of the files it was built from (the
 * `sources` of its source map: the app, the libraries and the npm packages bundled in) nor the
 * extra files given (the app's project.json, which holds the build options) changed since.
 */
export async function checkLambdaBundle(file: string, extraInputs: readonly string[] = []): Promise<BundleFreshness> {
  const builtAt = await modifiedAt(file);
  if (builtAt === undefined) return { file, fresh: false, reason: 'not built yet' };
  let sources: string[];
  try {
    const map = JSON.parse(await readFile(`${file}.map`, 'utf8')) as { sources?: unknown; sourceRoot?: unknown };
    if (!Array.isArray(map.sources)) throw new Error('no "sources"');
    const root = resolve(dirname(file), typeof map.sourceRoot === 'string' ? map.sourceRoot : '');
    sources = map.sources.map((source: string) => resolve(root, source));
  } catch (error) {
    return { file, fresh: false, reason: `its source map ${file}.map cannot be read (${(error as Error).message})` };
  }
  const inputs = [...sources, ...extraInputs];
  const times = await Promise.all(inputs.map(modifiedAt));
  for (let i = 0; i < inputs.length; i++) {
    const shown = relative(process.cwd(), inputs[i]) || inputs[i];
    if (times[i] === undefined && i < sources.length) return { file, fresh: false, reason: `${shown} no longer exists` };
    if (times[i] !== undefined && (times[i] as number) > builtAt) return { file, fresh: false, reason: `${shown} changed since the bundle was built` };
  }
  return { file, fresh: true };
}

/**
 * Requires each bundle and returns its `handler` by function name, as the Lambda runtime loads
 * `main.handler`. Module-level code (SDK clients) runs now, so the environment the functions read
 * (AWS_ENDPOINT_URL_*, ENDPOINT_NAME, THRESHOLD) must be set before.
 */
export function loadLambdaHandlers(files: Readonly<Record<string, string>>): Record<string, LambdaHandler> {
  const handlers: Record<string, LambdaHandler> = {};
  for (const [functionName, file] of Object.entries(files)) {
    let exported: { handler?: unknown };
    try {
      // A bundle path chosen at run time: this is a runtime require, not a module import.
      exported = require(file);
    } catch (error) {
      throw new LambdaBundleError(`${functionName}: cannot load ${file}: ${(error as Error).message}`);
    }
    if (typeof exported?.handler !== 'function') throw new LambdaBundleError(`${functionName}: ${file} exports no handler function`);
    handlers[functionName] = exported.handler as LambdaHandler;
  }
  return handlers;
}
