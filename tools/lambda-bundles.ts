// Builds and runs the Lambda bundles the way `nx build <app>` and the Lambda runtime do, for the
// Lambda apps' integration tests and benchmark. The esbuild options are read from the app's
// project.json build target (mapped as @nx/esbuild maps them), so there is no second copy.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';

/** The workspace root (found upwards from this file, which tools/run-ts.js runs from a cache folder). */
export const WORKSPACE_ROOT = findWorkspaceRoot(__dirname);

function findWorkspaceRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json above ${from}`);
  }
}

/**
 * A fresh scratch directory inside the workspace (`node_modules/.cache/scones/<prefix>XXXXXX`), for
 * bundles that must resolve the workspace's node_modules. Creates the parent first: a test cannot
 * count on another test or tool having made it.
 */
export async function workspaceScratch(prefix: string): Promise<string> {
  const parent = join(WORKSPACE_ROOT, 'node_modules/.cache/scones');
  await mkdir(parent, { recursive: true });
  return mkdtemp(join(parent, prefix));
}

/** The @nx/esbuild executor options the Lambda apps use. */
interface NxEsbuildOptions {
  main: string;
  tsConfig: string;
  outputPath: string;
  platform: BuildOptions['platform'];
  target: string;
  format: BuildOptions['format'][];
  bundle: boolean;
  minify?: boolean;
  thirdParty?: boolean;
  external?: string[];
  sourcemap?: boolean;
  esbuildOptions?: BuildOptions;
}

export function readBuildOptions(project: string): NxEsbuildOptions {
  const file = join(WORKSPACE_ROOT, 'apps', project, 'project.json');
  const build = JSON.parse(readFileSync(file, 'utf8')).targets?.build;
  if (build?.executor !== '@nx/esbuild:esbuild') throw new Error(`${file}: targets.build is not an @nx/esbuild:esbuild target`);
  return build.options as NxEsbuildOptions;
}

export interface BundleOptions {
  /** Directory of the bundle; it must lie inside the workspace so the bundle finds node_modules. */
  outdir: string;
  /** Bundle @aws-sdk/* too, instead of using the Lambda runtime's copy (a comparison for the benchmark). */
  bundleSdk?: boolean;
}

/** esbuild options equivalent to `nx build <project>` (see @nx/esbuild's build-esbuild-options.js). */
export function esbuildOptionsFor(project: string, { outdir, bundleSdk = false }: BundleOptions): BuildOptions {
  const nx = readBuildOptions(project);
  if (nx.format.length !== 1) throw new Error(`apps/${project}/project.json: expected exactly one build format`);
  const external = nx.thirdParty === false ? undefined : (nx.external ?? []).filter((e) => !(bundleSdk && e.startsWith('@aws-sdk/')));
  return {
    ...nx.esbuildOptions,
    absWorkingDir: WORKSPACE_ROOT,
    entryPoints: [nx.main],
    bundle: nx.bundle,
    packages: nx.thirdParty === false ? 'external' : undefined,
    external,
    minify: nx.minify,
    platform: nx.platform,
    target: nx.target,
    format: nx.format[0],
    tsconfig: join(WORKSPACE_ROOT, nx.tsConfig),
    sourcemap: nx.sourcemap,
    outfile: join(outdir, 'main.js'),
    metafile: true,
  };
}

export interface Bundle {
  file: string;
  bytes: number;
  metafile: Metafile;
  /** Modules the bundle still `require`s at run time (node builtins and externals). */
  runtimeRequires: string[];
}

export async function buildLambdaBundle(project: string, options: BundleOptions): Promise<Bundle> {
  const esbuildOptions = esbuildOptionsFor(project, options);
  const file = join(options.outdir, 'main.js');
  const result = await build({ ...esbuildOptions, metafile: true, logLevel: 'error' });
  const metafile = result.metafile as Metafile;
  const runtimeRequires = [...new Set(entryOutput(metafile).imports.filter((i) => i.external).map((i) => i.path))].sort();
  return { file, bytes: readFileSync(file).length, metafile, runtimeRequires };
}

function entryOutput(metafile: Metafile): Metafile['outputs'][string] {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
  if (!output) throw new Error('esbuild metafile: no output for the entry point');
  return output;
}

/** Bytes of the bundle that came from each npm package (or workspace folder). */
export function bytesByPackage(bundle: Bundle): Record<string, number> {
  const output = entryOutput(bundle.metafile);
  const sizes: Record<string, number> = {};
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const key = match ? match[1] : input.split('/').slice(0, 2).join('/');
    sizes[key] = (sizes[key] ?? 0) + bytesInOutput;
  }
  return sizes;
}

export interface Invocation {
  /** What the handler returned, or undefined when it threw. */
  result?: unknown;
  /** What the Lambda runtime would report: `errorType` is the error's `name`. */
  error?: { errorType: string; errorMessage: string };
  /** Every line the bundle wrote to stdout and every JSON line on stderr, parsed as JSON when it is JSON. */
  logs: unknown[];
  stderr: string;
}

const RESULT_MARK = '@@lambda-invocation@@';
// Runs in a plain Node process: require the bundle, call its handler once, report like the runtime.
const CHILD = `
const [file, event, context] = process.argv.slice(1);
const ctx = { ...JSON.parse(context), getRemainingTimeInMillis: () => 30000 };
const report = (r) => process.stdout.write('\\n${RESULT_MARK}' + JSON.stringify(r) + '\\n');
Promise.resolve()
  .then(() => require(file).handler(JSON.parse(event), ctx))
  .then((result) => report({ result }), (e) => report({ error: { errorType: e && e.name, errorMessage: e && e.message } }));
`;

/**
 * Invokes the `handler` of a bundle once in a fresh `node` process (a cold container) with only the
 * given environment (plus PATH and HOME), as the Lambda runtime would.
 */
export function invokeBundledHandler(
  file: string,
  event: unknown,
  { env = {}, requestId = randomUUID(), functionName = 'local-function' }: { env?: Record<string, string>; requestId?: string; functionName?: string } = {},
): Promise<Invocation> {
  // Functions do not survive JSON; the child gives the context its getRemainingTimeInMillis back.
  // The fields of the Lambda runtime's context (tools/ imports no workspace library: it is below them all).
  const context = JSON.stringify({
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '128',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${requestId.replace(/-/g, '')}`,
  });
  const childEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, ['-e', CHILD, file, JSON.stringify(event), context], { env: childEnv, timeout: 60_000 }, (error, stdout, stderr) => {
      const at = stdout.lastIndexOf(RESULT_MARK);
      if (at < 0) {
        reject(new Error(`the bundle ${file} did not report a result (${error?.message ?? 'no error'}): ${stderr}`));
        return;
      }
      const outcome = JSON.parse(stdout.slice(at + RESULT_MARK.length)) as Pick<Invocation, 'result' | 'error'>;
      // Lambda collects both streams; Node's own warnings on stderr are not the function's logs.
      const jsonStderr = lines(stderr).filter((line) => line.startsWith('{'));
      const logs = [...lines(stdout.slice(0, at)), ...jsonStderr].map((line) => {
        try {
          return JSON.parse(line) as unknown;
        } catch {
          return line;
        }
      });
      resolvePromise({ ...outcome, logs, stderr });
    });
  });
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}
