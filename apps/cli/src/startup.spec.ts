import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProgram } from './program';

// Every `scones` start defines all the commands; a command's libraries (the AWS SDK, the local stack,
// TensorFlow.js, vega, the ASL engine, zod) must load only when that command runs. These tests
// run the real launcher with a preload that records every npm package Node is asked to load.
const launcher = join(__dirname, '../../../tools/scones.js');

/** What `tools/scones.js` itself loads besides the CLI: its bundler. */
const LAUNCHER_PACKAGES = ['esbuild'];
/** All the CLI may load to define its commands and print help. */
const DEFINING_PACKAGES = ['commander'];

const RECORDER = `
const Module = require('node:module');
const { isAbsolute } = require('node:path');
const packages = new Set();
const load = Module._load;
Module._load = function (request, ...rest) {
  if (!Module.isBuiltin(request) && !request.startsWith('.') && !isAbsolute(request)) {
    packages.add(request.split('/').slice(0, request.startsWith('@') ? 2 : 1).join('/'));
  }
  return load.call(this, request, ...rest);
};
process.on('exit', () => require('node:fs').writeFileSync(process.env.SCONES_TEST_LOADED, JSON.stringify([...packages].sort())));
`;

let dir: string;
let recorder: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scones-startup-'));
  recorder = join(dir, 'record-packages.js');
  await writeFile(recorder, RECORDER);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

let runs = 0;

/** Runs `scones <args>` and returns its exit code and the npm packages the process loaded. */
async function packagesLoadedBy(args: string[]): Promise<{ code: number; stdout: string; packages: string[] }> {
  const record = join(dir, `loaded-${++runs}.json`);
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) =>
    execFile(process.execPath, ['--require', recorder, launcher, ...args], { timeout: 60_000, env: { ...process.env, SCONES_TEST_LOADED: record } }, (error, out) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out }),
    ),
  );
  return { code, stdout, packages: JSON.parse(await readFile(record, 'utf8')) as string[] };
}

describe('scones start-up', () => {
  const helps = [['--help'], ...createProgram().commands.map((command) => [command.name(), '--help'])].map((args) => [args.join(' '), args] as const);

  it.each(helps)('`scones %s` loads no command library', async (_title, args) => {
    const { code, stdout, packages } = await packagesLoadedBy([...args]);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: scones');
    expect(packages).toEqual(expect.arrayContaining(DEFINING_PACKAGES));
    expect(packages.filter((name) => !DEFINING_PACKAGES.includes(name) && !LAUNCHER_PACKAGES.includes(name))).toEqual([]);
  });

  it('loads the libraries of a command when it runs', async () => {
    // `invoke` of a missing file fails (exit 2) after its module, with the SageMaker Runtime client, has loaded.
    const { code, packages } = await packagesLoadedBy(['invoke', 'some-endpoint', join(dir, 'missing.png')]);
    expect(code).toBe(2);
    expect(packages).toEqual(expect.arrayContaining(['@aws-sdk/client-sagemaker-runtime', 'zod']));
  });
});
