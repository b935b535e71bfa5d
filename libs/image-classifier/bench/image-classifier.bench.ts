// Benchmark of `scones train` on the real CIFAR-100 bicycle/motorcycle rows (../shared/data):
// full training with a fixed seed (the exact CLI command, in a child process), then single-image
// inference latency of the written artifact, and training throughput with 1 vs 2 wasm threads.
//   node tools/run-ts.js libs/image-classifier/bench/image-classifier.bench.ts
// Env: BENCH_TRAIN_RUNS (full trainings, default 1), BENCH_DATA (the archive), BENCH_THROUGHPUT_RUNS (default 3).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { directorySink, stageCifar } from '@scones/cifar-decoder';
import { backendInfo, encodePng, loadClassifier, readChannel } from '../src';

const root = process.env.SCONES_ROOT ?? resolve(__dirname, '../../..');
const archive = process.env.BENCH_DATA ?? resolve(root, '../shared/data/cifar-100-python-bicycle-motorcycle.tar.gz');
const trainRuns = Number(process.env.BENCH_TRAIN_RUNS ?? 1);
const throughputRuns = Number(process.env.BENCH_THROUGHPUT_RUNS ?? 3);
const GOAL_ACCURACY = 0.92;
const GOAL_SECONDS = 300;
const SAGEMAKER_ACCURACY = 0.849;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Peak resident set size in MiB (Linux /proc VmHWM, sampled), or NaN. */
  peakMiB: number;
}

/** Runs `node tools/scones.js <args>`, timing it and sampling its peak memory. */
function scones(args: string[], env: Record<string, string> = {}): Promise<ChildRun> {
  return new Promise((done) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(root, 'tools/scones.js'), ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let peakKiB = NaN;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKiB = Math.max(Number.isNaN(peakKiB) ? 0 : peakKiB, Number(m[1]));
      } catch {
        /* not Linux, or already gone */
      }
    };
    const timer = setInterval(sample, 250);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      process.stderr.write(c);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      done({ code, stdout, stderr, seconds: (performance.now() - started) / 1000, peakMiB: peakKiB / 1024 });
    });
  });
}

async function main(): Promise<void> {
  if (!existsSync(archive)) throw new Error(`benchmark data not found: ${archive} (set BENCH_DATA)`);
  const work = await mkdtemp(join(tmpdir(), 'scones-bench-'));
  const load = () => loadavg()[0].toFixed(2);
  try {
    const staged = join(work, 'staged');
    await stageCifar({ source: archive, sink: directorySink(staged) });
    const loadBefore = load();

    // 1. The full training, exactly as a user runs it.
    const command = ['train', '--data', staged, '--out', join(work, 'model'), '--seed', '42', '--job-name', 'bench', '--json'];
    const runs: Array<ChildRun & { result: Record<string, unknown> }> = [];
    for (let i = 0; i < trainRuns; i++) {
      const run = await scones(command);
      if (run.code !== 0) throw new Error(`scones train failed (exit ${run.code}):\n${run.stderr.slice(-2000)}`);
      runs.push({ ...run, result: JSON.parse(run.stdout) });
    }
    const manifest = JSON.parse(await readFile(join(work, 'model/manifest.json'), 'utf8'));
    const accuracy = manifest.test.accuracy as number;
    const wall = median(runs.map((r) => r.seconds));
    const peak = Math.max(...runs.map((r) => r.peakMiB));

    // 2. Single-image inference latency of the artifact (decode + preprocess + forward), in this process.
    const backend = await backendInfo();
    const classifier = await loadClassifier(join(work, 'model'));
    const test = await readChannel({ directory: staged }, 'test', { numClasses: 2 });
    const pngs = test.map((x) => encodePng(x.image));
    for (let i = 0; i < 20; i++) await classifier.predict([pngs[i % pngs.length]]);
    const latencies: number[] = [];
    for (let i = 0; i < 400; i++) {
      const t = performance.now();
      await classifier.predict([pngs[i % pngs.length]]);
      latencies.push(performance.now() - t);
    }
    const t0 = performance.now();
    await classifier.predict(pngs);
    const batchImagesPerSecond = pngs.length / ((performance.now() - t0) / 1000);
    classifier.dispose();

    // 3. Training throughput with 1 and 2 wasm threads, alternated (2 epochs, same seed).
    const throughput: Record<'1' | '2', number[]> = { '1': [], '2': [] };
    for (let i = 0; i < throughputRuns; i++) {
      for (const threads of ['1', '2'] as const) {
        const run = await scones(['train', '--data', staged, '--out', join(work, `tp-${threads}`), '--epochs', '2', '--json'], { SCONES_TFJS_THREADS: threads === '2' ? '1' : '0' });
        if (run.code !== 0) throw new Error(`throughput run failed:\n${run.stderr.slice(-2000)}`);
        const history = JSON.parse(await readFile(join(work, `tp-${threads}/manifest.json`), 'utf8')).training;
        const seconds = history.history.reduce((s: number, h: { seconds: number }) => s + h.seconds, 0);
        throughput[threads].push((history.trainCount * history.epochs) / seconds);
      }
    }
    const tp1 = median(throughput['1']);
    const tp2 = median(throughput['2']);

    const met = accuracy >= GOAL_ACCURACY && wall <= GOAL_SECONDS;
    const lat50 = median(latencies);
    const lat99 = percentile(latencies, 99);
    const t = manifest.threshold;
    const rows = [
      ['test accuracy (200 test images, seed 42)', accuracy.toFixed(3), `goal ≥ ${GOAL_ACCURACY}; SageMaker ResNet-152: ${SAGEMAKER_ACCURACY}`],
      ['wall time of `scones train` (reading data → artifact written)', `${wall.toFixed(1)} s`, `goal ≤ ${GOAL_SECONDS} s${runs.length > 1 ? `; median of ${runs.length}` : ''}`],
      ['best epoch / epochs', `${manifest.training.bestEpoch} / ${manifest.training.epochs}`, `validation accuracy ${manifest.training.history[manifest.training.bestEpoch].validationAccuracy.toFixed(3)} (${manifest.training.validationCount} images)`],
      ['recommended threshold (validation precision ≥ 0.98)', t.value.toFixed(4), `precision ${t.precision.toFixed(3)}, coverage ${(t.coverage * 100).toFixed(1)} %`],
      ['peak memory (RSS) of the training process', Number.isNaN(peak) ? 'n/a' : `${peak.toFixed(0)} MiB`, ''],
      [`single-image inference latency, median (${backend.threads} thread(s))`, `${lat50.toFixed(2)} ms`, 'PNG bytes → probabilities; 400 calls'],
      ['single-image inference latency, p99', `${lat99.toFixed(2)} ms`, ''],
      ['batch inference (200 images in one call)', `${batchImagesPerSecond.toFixed(0)} images/s`, ''],
      ['training throughput, 1 wasm thread', `${tp1.toFixed(0)} images/s`, `median of ${throughputRuns} (2-epoch runs)`],
      ['training throughput, 2 wasm threads', `${tp2.toFixed(0)} images/s`, `× ${(tp2 / tp1).toFixed(2)} vs 1 thread`],
    ];
    const verdict = met
      ? `**Goal met**: test accuracy ${accuracy.toFixed(3)} ≥ ${GOAL_ACCURACY} in ${wall.toFixed(0)} s ≤ ${GOAL_SECONDS} s.`
      : `**Goal not met**: test accuracy ${accuracy.toFixed(3)} (goal ${GOAL_ACCURACY}, ${accuracy >= GOAL_ACCURACY ? 'met' : `short by ${(GOAL_ACCURACY - accuracy).toFixed(3)}`}), wall ${wall.toFixed(0)} s (goal ${GOAL_SECONDS} s, ${wall <= GOAL_SECONDS ? 'met' : `over by ${(wall - GOAL_SECONDS).toFixed(0)} s`}).`;
    // Why a shortfall happens, from the model-selection runs recorded in training-config.ts.
    const why = met
      ? ''
      : ' Trained from scratch on 900 images, every configuration tried on a 20 % validation split plateaued at 0.88–0.90 validation accuracy (training-config.ts); 200 test images put ±2 points of sampling noise on the figure. Training threads help only on an idle machine (the load average is above).';
    const md = [
      '## image-classifier: training and inference',
      '',
      'Command: `npx nx run image-classifier:bench` (libs/image-classifier/bench/image-classifier.bench.ts). The training it times is',
      `\`scones train --data <staged> --out <dir> --seed 42 --job-name bench --json\` on the 1000 training images of ../shared/data`,
      '(staged with the cifar-decoder), validation = 10 % of them (stratified), test = the 200 test images, touched once.',
      '',
      `- Date: ${new Date().toISOString()}`,
      `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load average (1 min) ${loadBefore} before, ${load()} after`,
      `- Architecture: ${manifest.training.hyperparameters.architecture}, ${manifest.training.epochs} epochs, batch ${manifest.training.hyperparameters.batchSize}, ${manifest.training.hyperparameters.schedule}`,
      '',
      '| figure | value | note |',
      '|---|---|---|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      verdict + why,
      '',
      'Per-epoch history of the benchmark run:',
      '',
      '| epoch | train acc | val acc | val loss | seconds |',
      '|---|---|---|---|---|',
      ...manifest.training.history.map(
        (h: { epoch: number; trainAccuracy: number; validationAccuracy: number; validationLoss: number; seconds: number }) =>
          `| ${h.epoch} | ${h.trainAccuracy.toFixed(3)} | ${h.validationAccuracy.toFixed(3)} | ${h.validationLoss.toFixed(3)} | ${h.seconds.toFixed(1)} |`,
      ),
      '',
    ].join('\n');
    process.stdout.write(`${md}\n`);
    await mkdir(join(root, 'dist/bench'), { recursive: true });
    await writeFile(join(root, 'dist/bench/image-classifier.md'), md);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`image-classifier bench: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
