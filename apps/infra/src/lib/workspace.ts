import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InfraConfigError } from '../errors';

/**
 * The Nx workspace root, found upwards from this file. It works from the sources (jest) and from
 * the bundle tools/run-ts.js writes to node_modules/.cache, which lies inside the workspace too.
 */
export function findWorkspaceRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new InfraConfigError(`no nx.json in ${from} or above: run the CDK app from the Scones workspace`);
  }
}

/** What a Lambda app's `nx build` (@nx/esbuild) does, and so what its NodejsFunction must do too. */
export interface LambdaBuild {
  /** Absolute path of the handler's entry file. */
  entry: string;
  /** Absolute path of the tsconfig that resolves the `@scones/*` aliases. */
  tsconfig: string;
  /** esbuild target, e.g. `node22`. */
  target: string;
  minify: boolean;
  sourceMap: boolean;
  /** Packages left out of the bundle (the Lambda runtime provides `@aws-sdk/*`). */
  external: string[];
  /** esbuild `alias` (module substitutions, e.g. a browser build of a package), absolute paths. */
  alias: Record<string, string>;
}

/**
 * Reads the esbuild options of `apps/<project>` from its project.json build target, so the CDK
 * bundles exactly what `nx build <project>` and the Lambda apps' bundle tests build.
 */
export function readLambdaBuild(root: string, project: string, entryOverride?: string): LambdaBuild {
  const file = join(root, 'apps', project, 'project.json');
  if (!existsSync(file)) throw new InfraConfigError(`apps/${project}/project.json not found: the Lambda app ${project} is missing`);
  const options = JSON.parse(readFileSync(file, 'utf8'))?.targets?.build?.options;
  if (!options?.main || !options?.tsConfig) {
    throw new InfraConfigError(`apps/${project}/project.json: targets.build.options needs "main" and "tsConfig" (an @nx/esbuild build)`);
  }
  if (options.thirdParty === false) {
    throw new InfraConfigError(`apps/${project}/project.json: a Lambda bundle must include its npm packages ("thirdParty": true)`);
  }
  const entry = join(root, entryOverride ?? options.main);
  if (!existsSync(entry)) throw new InfraConfigError(`${entry}: the handler entry of ${project} does not exist`);
  return {
    entry,
    tsconfig: join(root, options.tsConfig),
    target: options.target ?? 'node22',
    minify: options.minify ?? false,
    sourceMap: options.sourcemap ?? false,
    external: options.external ?? ['@aws-sdk/*'],
    // Relative targets are relative to the workspace root, where nx runs esbuild.
    alias: Object.fromEntries(
      Object.entries((options.esbuildOptions?.alias ?? {}) as Record<string, string>).map(([name, target]) => [name, target.startsWith('.') ? join(root, target) : target]),
    ),
  };
}
