// Benchmark of the three Lambda bundles: size and cold init (a fresh `node` requiring the bundle,
// which constructs the SDK client and the logger), with the AWS SDK left to the nodejs22.x
// runtime (what `nx build` ships) and, for comparison, bundled in. Writes dist/bench/lambdas.md.
//   node tools/run-ts.js tools/lambdas.bench.ts [--runs 15]
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ROOT, buildLambdaBundle, bytesByPackage, type Bundle } from './lambda-bundles';

const FUNCTIONS = ['serialize-lambda', 'classify-lambda', 'filter-lambda'] as const;
const VARIANTS = [
  { name: 'SDK from the runtime (shipped)', bundleSdk: false },
  { name: 'SDK bundled (comparison)', bundleSdk: true },
] as const;
const SIZE_GOAL_BYTES = 300 * 1024;
const INIT_GOAL_MS = 100;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;

// What a Lambda container has: a region and the function's settings; no endpoint calls happen at init.
const ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', AWS_REGION: 'us-east-1', ENDPOINT_NAME: 'bench-endpoint', THRESHOLD: '0.9', NODE_NO_WARNINGS: '1' };
// `require` time of the bundle, and the time since the process started (Node's own boot included).
const PROBE = `const t0 = performance.now(); require(process.argv[1]); const t1 = performance.now();
process.stdout.write(JSON.stringify({ init: t1 - t0, ready: t1 }));`;

interface Probe {
  init: number;
  ready: number;
}

function probe(file: string | undefined): Probe {
  const script = file ? PROBE : 'process.stdout.write(JSON.stringify({ init: 0, ready: performance.now() }))';
  const run = spawnSync(process.execPath, ['-e', script, ...(file ? [file] : [])], { env: ENV, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`cold init probe of ${file ?? 'node'} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Probe;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

async function main(): Promise<void> {
  const outRoot = join(WORKSPACE_ROOT, 'dist/bench/lambdas');
  rmSync(outRoot, { recursive: true, force: true });
  interface Measured {
    fn: (typeof FUNCTIONS)[number];
    variant: (typeof VARIANTS)[number];
    bundle: Bundle;
    samples: Probe[];
  }
  const measured: Measured[] = [];
  for (const variant of VARIANTS) {
    for (const fn of FUNCTIONS) {
      const outdir = join(outRoot, variant.bundleSdk ? 'sdk-bundled' : 'sdk-external', fn);
      measured.push({ fn, variant, bundle: await buildLambdaBundle(fn, { outdir, bundleSdk: variant.bundleSdk }), samples: [] });
    }
  }

  // Round-robin over all bundles (and a bare node as the baseline) so machine noise hits them alike.
  const bare: Probe[] = [];
  for (let run = 0; run < RUNS; run++) {
    process.stderr.write(`\rcold init: run ${run + 1}/${RUNS}`);
    bare.push(probe(undefined));
    for (const m of measured) m.samples.push(probe(m.bundle.file));
  }
  process.stderr.write('\n');
  const baseline = quantile(bare.map((s) => s.ready), 0.5);

  const rows: string[] = [];
  let sizeMet = true;
  let initMet = true;
  for (const { fn, variant, bundle, samples } of measured) {
    const inits = samples.map((s) => s.init);
    const zod = bytesByPackage(bundle).zod ?? 0;
    if (!variant.bundleSdk) {
      sizeMet &&= bundle.bytes <= SIZE_GOAL_BYTES;
      initMet &&= quantile(inits, 0.5) <= INIT_GOAL_MS;
    }
    rows.push(
      `| ${fn} | ${variant.name} | ${kb(bundle.bytes)} | ${Math.round((100 * zod) / bundle.bytes)}% | ${ms(quantile(inits, 0.5))} | ${ms(quantile(inits, 0.9))} | ${ms(quantile(samples.map((s) => s.ready), 0.5))} |`,
    );
  }

  const total = (bundleSdk: boolean) => measured.filter((m) => m.variant.bundleSdk === bundleSdk).reduce((sum, m) => sum + m.bundle.bytes, 0);
  const markdown = [
    '## Lambda bundles: size and cold init',
    '',
    '`npx nx run serialize-lambda:bench` (runs `node tools/run-ts.js tools/lambdas.bench.ts`)',
    '',
    `- Date: ${new Date().toISOString()}; Node ${process.version}; ${RUNS} runs per bundle, round-robin.`,
    '- Bundles built with the options of each app\'s `project.json` (esbuild, minified, cjs, node22).',
    '- Cold init: a fresh `node -e` process requires the bundle, which constructs its SDK client and logger;',
    '  "init" is the `require` alone, "ready" is the time from process start (Node\'s own boot included).',
    `  A bare \`node -e\` is ready after ${ms(baseline)} (median). The first request's SDK work (credentials,`,
    '  endpoint resolution) happens on the first call and is not included.',
    '',
    '| function | AWS SDK | size (minified) | of which zod | init median | init p90 | ready median |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Bundling the SDK would make the three bundles ${(total(true) / total(false)).toFixed(1)}x larger in total;`,
    'the shipped bundles mark `@aws-sdk/*` external and use the SDK v3 of the nodejs22.x runtime.',
    '',
    `Goal: each shipped bundle ≤ 300 KB minified — ${sizeMet ? 'met' : 'NOT met'}; cold init (median) ≤ ${INIT_GOAL_MS} ms — ${initMet ? 'met' : 'NOT met'}.`,
    '',
  ].join('\n');
  mkdirSync(join(WORKSPACE_ROOT, 'dist/bench'), { recursive: true });
  writeFileSync(join(WORKSPACE_ROOT, 'dist/bench/lambdas.md'), markdown);
  process.stdout.write(markdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`lambdas bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
