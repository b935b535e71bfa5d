// `npx nx run local-stack:bench`: the local stack's benchmarks one after another (they must not
// compete for the cores), collected into dist/bench/local-stack.md for BENCHMARKS.md:
//  - `scones up` to ready, from a fresh process, with no endpoint (goal ≤ 1 s);
//  - S3: staging 1 202 objects, GET/LIST latency, a 60 000-key bucket (s3.bench.ts);
//  - SageMaker Runtime through the gateway vs straight to the model server, and `up` with one
//    InService endpoint (sagemaker.bench.ts; goals: +0.3 ms p50 at 1 client, ≥ 90 % throughput at
//    32 connections, ready ≤ 2 s);
//  - Lambda: warm and cold invocations, Python and Node.js (lambda.bench.ts; goals: warm Python
//    p50 ≤ 5 ms, cold ≤ 300 ms).
// The Step Functions benchmarks write their own sections (stepfunctions*.bench.ts).
//   node tools/run-ts.js libs/local-stack/bench/local-stack.bench.ts [--quick]
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = process.env.SCONES_ROOT ?? process.cwd();
const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const log = (message: string) => process.stderr.write(`local-stack bench: ${message}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** ms from spawning `scones up` until it prints its URL (the stack serves), then Ctrl-C. */
function upToReady(dataDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(ROOT, 'tools/scones.js'), 'up', '--port', '0', '--data-dir', dataDir, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let ready: number | undefined;
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (ready === undefined && out.includes('}')) {
        ready = performance.now() - started;
        child.kill('SIGINT');
      }
    });
    child.once('exit', (code) => (ready === undefined ? reject(new Error(`scones up exited with ${code} before serving`)) : resolve(ready)));
  });
}

function run(script: string, args: string[]): string {
  log(`${script} ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [join(ROOT, 'tools/run-ts.js'), join(ROOT, 'libs/local-stack/bench', script), ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${script} exited with ${result.status}`);
  return result.stdout;
}

async function main(): Promise<void> {
  const sections: string[] = [];
  // The launcher's bundle is built once first, so the runs below measure starting, not bundling.
  const warm = await mkdtemp(join(tmpdir(), 'scones-up-bench-'));
  await upToReady(warm);
  const upRuns: number[] = [];
  for (let i = 0; i < (values.quick ? 3 : 7); i++) upRuns.push(await upToReady(warm));
  await rm(warm, { recursive: true, force: true });
  const up = Math.round(median(upRuns));
  sections.push(
    '## The local stack (`npx nx run local-stack:bench`)',
    '',
    `${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}.`,
    '',
    `\`scones up\` to ready with no endpoint, from a fresh process (node start, launcher, all eight services): median ${up} ms of ${upRuns.length} runs (${upRuns.map(Math.round).join(', ')}) — goal ≤ 1 000 ms: ${up <= 1000 ? 'met' : 'missed'}.`,
    '',
  );
  sections.push(run('s3.bench.ts', ['--rounds', values.quick ? '2' : '5', '--big', values.quick ? '5000' : '60000']), '');
  const sagemakerMd = join(await mkdtemp(join(tmpdir(), 'scones-sm-bench-')), 'section.md');
  run('sagemaker.bench.ts', ['--rounds', values.quick ? '1' : '3', '--seconds', values.quick ? '2' : '5', '--startups', values.quick ? '1' : '3', '--markdown', sagemakerMd]);
  sections.push(await readFile(sagemakerMd, 'utf8'));
  const lambda = JSON.parse(run('lambda.bench.ts', ['--json', '--warm', values.quick ? '50' : '300', '--cold', values.quick ? '3' : '15'])) as {
    results: Record<string, Record<string, { p50: number; p90: number; p99: number; n: number }>>;
    cpuPerInvocation: Record<string, { coldStartWorkerCpuMs: number; warmWorkerCpuMs: number; warmStackAndClientCpuMs: number }>;
  };
  sections.push('### Lambda invocations (`libs/local-stack/bench/lambda.bench.ts`, echo function)', '', '| runtime | warm via JS SDK p50 / p99 | warm, bare HTTP p50 | warm, in process (Step Functions) p50 | cold start (first invocation) p50 |', '|---|---|---|---|---|');
  for (const [runtime, r] of Object.entries(lambda.results)) {
    sections.push(`| ${runtime} | ${r.warmSdk.p50} / ${r.warmSdk.p99} ms | ${r.warmHttp.p50} ms | ${r.warmInProcess.p50} ms | ${r.coldStartSdk.p50} ms |`);
  }
  sections.push('', 'Goals (issue 16): warm Python p50 ≤ 5 ms; cold start ≤ 300 ms.', '');
  await mkdir(join(ROOT, 'dist/bench'), { recursive: true });
  await writeFile(join(ROOT, 'dist/bench/local-stack.md'), `${sections.join('\n')}\n`);
  process.stdout.write(`${sections.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`local-stack bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
