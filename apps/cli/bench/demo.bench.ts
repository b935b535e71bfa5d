// Benchmark of what a new user runs first: `scones demo --quick` end to end (fresh, then reusing
// the staged data and model), step by step, and the CLI's start-up beside bare `node`.
//   node tools/run-ts.js apps/cli/bench/demo.bench.ts     (= npx nx run cli:bench)
// Data: SCONES_CIFAR_SOURCE, else ../shared/data's bicycle/motorcycle archive, else a generated
// archive of the same layout (then accuracy figures mean nothing, times still do).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeCifarFixtureArchive } from '@scones/cifar-decoder';

const ROOT = process.env.SCONES_ROOT ?? process.cwd();
const LAUNCHER = join(ROOT, 'tools/scones.js');
const SHARED = resolve(ROOT, '../shared/data/cifar-100-python-bicycle-motorcycle.tar.gz');
const STARTUP_RUNS = 15;
const FRESH_RUNS = 2;
const REUSE_RUNS = 3;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function wallMs(args: string[]): number {
  const t0 = performance.now();
  const run = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}`);
  return performance.now() - t0;
}

interface DemoRun {
  seconds: number;
  steps: Record<string, number>;
  accuracy: number | null;
  passRate: number | null;
  p50: number | null;
}

function demo(args: string[], env: NodeJS.ProcessEnv): DemoRun {
  const stdout = execFileSync(process.execPath, [LAUNCHER, 'demo', '--quick', '--json', ...args], { env, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).toString();
  const result = JSON.parse(stdout) as { ok: boolean; stepSeconds: Record<string, number>; summary: { seconds: number; model: { testAccuracy: number | null }; passRate: number | null; executions: { stream: { latencyMs: { p50: number } | null } } } };
  if (!result.ok) throw new Error('the demo did not finish cleanly');
  return { seconds: result.summary.seconds, steps: result.stepSeconds, accuracy: result.summary.model.testAccuracy, passRate: result.summary.passRate, p50: result.summary.executions.stream.latencyMs?.p50 ?? null };
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'scones-demo-bench-'));
  try {
    let source = process.env.SCONES_CIFAR_SOURCE || (existsSync(SHARED) ? SHARED : '');
    if (!source) {
      source = join(work, 'fixture.tar.gz');
      await writeCifarFixtureArchive(source, { trainRows: 1000, testRows: 200, classes: ['bicycle', 'motorcycle'] });
    }
    const env = { ...process.env, SCONES_ENDPOINTS_DIR: join(work, 'endpoints') };

    // Start-up: alternate the two commands so load on the machine hits both alike.
    wallMs([LAUNCHER, '--help']); // the launcher's bundle is (re)built once, outside the timing
    const bare: number[] = [];
    const help: number[] = [];
    for (let i = 0; i < STARTUP_RUNS; i++) {
      bare.push(wallMs(['-e', '0']));
      help.push(wallMs([LAUNCHER, '--help']));
    }
    process.stderr.write(`start-up: node -e 0 ${median(bare).toFixed(0)} ms, scones --help ${median(help).toFixed(0)} ms\n`);

    const fresh: DemoRun[] = [];
    const reuse: DemoRun[] = [];
    for (let i = 0; i < FRESH_RUNS; i++) {
      const s3Dir = join(work, `s3-${i}`);
      fresh.push(demo(['--source', source, '--s3-dir', s3Dir, '--out', join(work, 'reports')], env));
      process.stderr.write(`fresh demo ${i + 1}/${FRESH_RUNS}: ${fresh.at(-1)!.seconds.toFixed(1)} s\n`);
      if (i === 0) {
        for (let j = 0; j < REUSE_RUNS; j++) {
          reuse.push(demo(['--source', source, '--s3-dir', s3Dir, '--out', join(work, 'reports')], env));
          process.stderr.write(`reusing demo ${j + 1}/${REUSE_RUNS}: ${reuse.at(-1)!.seconds.toFixed(1)} s\n`);
        }
      }
    }

    const stepNames = ['stage', 'train', 'deploy', 'batch', 'stream', 'stopEndpoint', 'report'];
    const cell = (runs: DemoRun[], name: string) => {
      const xs = runs.map((r) => r.steps[name]).filter((x): x is number => typeof x === 'number');
      return xs.length ? `${median(xs).toFixed(2)} s` : '— (reused)';
    };
    const date = new Date().toISOString().slice(0, 10);
    const lines = [
      '## `scones demo --quick` end to end (npm start)',
      '',
      `Command: \`npx nx run cli:bench\` (node tools/run-ts.js apps/cli/bench/demo.bench.ts), ${date}. Data: ${source === SHARED ? 'the real CIFAR-100 bicycle/motorcycle rows' : source.endsWith('fixture.tar.gz') ? 'a generated archive (accuracy meaningless)' : source}.`,
      `Medians of ${FRESH_RUNS} fresh runs (empty embedded S3) and ${REUSE_RUNS} runs reusing the staged data and model. The stream is 3 s at 20 executions/s by design.`,
      '',
      '| step | fresh | reusing |',
      '|---|---|---|',
      ...stepNames.map((name) => `| ${name} | ${cell(fresh, name)} | ${cell(reuse, name)} |`),
      `| **whole demo** | **${median(fresh.map((r) => r.seconds)).toFixed(1)} s** | **${median(reuse.map((r) => r.seconds)).toFixed(1)} s** |`,
      '',
      `Quick model: test accuracy ${fresh.map((r) => r.accuracy?.toFixed(3) ?? 'n/a').join(', ')}; pass rate at its threshold ${fresh.map((r) => (r.passRate === null ? 'n/a' : `${(r.passRate * 100).toFixed(1)} %`)).join(', ')}; single-execution p50 ${median(fresh.concat(reuse).map((r) => r.p50 ?? NaN)).toFixed(1)} ms.`,
      '',
      `CLI start-up (median of ${STARTUP_RUNS}, alternating): \`node -e 0\` ${median(bare).toFixed(0)} ms, \`scones --help\` ${median(help).toFixed(0)} ms (${(median(help) - median(bare)).toFixed(0)} ms of its own; commands load their libraries only when they run).`,
      '',
      'Goal (issue 10): none in seconds; the course does the same with a notebook, console clicks and a ~15 min SageMaker training job.',
      '',
    ];
    const markdown = lines.join('\n');
    process.stdout.write(`${markdown}\n`);
    await mkdir(join(ROOT, 'dist/bench'), { recursive: true });
    await writeFile(join(ROOT, 'dist/bench/cli.md'), markdown);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`demo bench: ${error.message}\n`);
  process.exit(1);
});
