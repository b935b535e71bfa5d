// Benchmark of `scones train` and of the trained model's arithmetic, on the real CIFAR-100
// bicycle/motorcycle rows (../shared/data):
// 1. `scones train --seed N` (the exact CLI command, in a child process) for each seed: test and
//    validation accuracy, wall and CPU seconds, peak memory, the recommended threshold and what it
//    passes of the test set (the test set is read once, after training, for this report only);
// 2. `scones train --quick` (the demo's configuration, seed 42);
// 3. the model alone (inference-speed.ts, one child process per wasm thread count): one image, one
//    image with its mirror (flip TTA), per image in a batch of 32, through tfjs-layers as before and
//    through the compiled serving graph, for the trained network and the previous one;
// 4. single-image latency of the loaded artifact, PNG bytes → probabilities.
//   npx nx run image-classifier:bench   (node tools/run-ts.js libs/image-classifier/bench/image-classifier.bench.ts)
// Env: BENCH_SEEDS (default 1,2,3), BENCH_QUICK=0 to skip the quick run, BENCH_DATA (the archive).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { directorySink, stageCifar } from '@scones/cifar-decoder';
import type { ModelManifest } from '@scones/payload-schemas';
import { argMax, backendInfo, encodePng, loadClassifier, readChannel } from '../src';

const root = process.env.SCONES_ROOT ?? resolve(__dirname, '../../..');
const archive = process.env.BENCH_DATA ?? resolve(root, '../shared/data/cifar-100-python-bicycle-motorcycle.tar.gz');
const seeds = (process.env.BENCH_SEEDS ?? '1,2,3').split(',').map(Number);
const quick = process.env.BENCH_QUICK !== '0';
// Issue 18's goals.
const GOAL = { meanAccuracy: 0.93, seedAccuracy: 0.92, seconds: 240, quickSeconds: 30, minCoverage: 0.7, coverageSpread: 0.1, passedPrecision: 0.97 };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** user + sys seconds and peak RSS (MiB) from /usr/bin/time -v, when it exists. */
  cpuSeconds: number;
  peakMiB: number;
}

const TIME = '/usr/bin/time';

/** Runs `node <script> <args>` (under /usr/bin/time -v when available), timing it. */
function node(script: string, args: string[], env: Record<string, string> = {}): Promise<ChildRun> {
  return new Promise((done) => {
    const started = performance.now();
    const timed = existsSync(TIME);
    const command = timed ? TIME : process.execPath;
    const argv = timed ? ['-v', process.execPath, script, ...args] : [script, ...args];
    const child = spawn(command, argv, { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      // Progress goes through line by line; /usr/bin/time's report (tab-indented lines) does not.
      const lines = (partial + c.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (!(timed && line.startsWith('\t'))) process.stderr.write(`${line}\n`);
    });
    child.on('exit', (code) => {
      const field = (name: string) => Number(new RegExp(`${name}: ([\\d.]+)`).exec(stderr)?.[1] ?? Number.NaN);
      done({ code, stdout, stderr, seconds: (performance.now() - started) / 1000, cpuSeconds: field('User time \\(seconds\\)') + field('System time \\(seconds\\)'), peakMiB: field('Maximum resident set size \\(kbytes\\)') / 1024 });
    });
  });
}

const scones = (args: string[], env: Record<string, string> = {}) => node(join(root, 'tools/scones.js'), args, env);

interface SeedRow {
  seed: number;
  run: ChildRun;
  manifest: ModelManifest;
  validationAccuracy: number;
  testCoverage: number;
  testPassedPrecision: number;
}

/** What the recommended threshold passes of the test set, and how precise the passed predictions are. */
async function thresholdOnTest(modelDir: string, staged: string, threshold: number): Promise<{ coverage: number; precision: number }> {
  const classifier = await loadClassifier(modelDir);
  const test = await readChannel({ directory: staged }, 'test', { numClasses: classifier.classNames.length });
  const probabilities = await classifier.predictImages(test.map((x) => x.image));
  classifier.dispose();
  const passed = probabilities.map((p, i) => ({ p, label: test[i].label })).filter(({ p }) => Math.max(...p) >= threshold);
  const right = passed.filter(({ p, label }) => argMax(p) === label).length;
  return { coverage: passed.length / test.length, precision: passed.length ? right / passed.length : Number.NaN };
}

async function train(staged: string, out: string, seed: number, extra: string[] = []): Promise<SeedRow> {
  const run = await scones(['train', '--data', staged, '--out', out, '--seed', String(seed), '--job-name', `bench-${seed}`, '--json', ...extra]);
  if (run.code !== 0) throw new Error(`scones train --seed ${seed} failed (exit ${run.code}):\n${run.stderr.slice(-2000)}`);
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as ModelManifest;
  const onTest = await thresholdOnTest(out, staged, manifest.threshold.value);
  return { seed, run, manifest, validationAccuracy: manifest.training.history[manifest.training.bestEpoch].validationAccuracy, testCoverage: onTest.coverage, testPassedPrecision: onTest.precision };
}

interface SpeedPath {
  singleMs: { wallMs: number; cpuMs: number };
  singleFlipMs: { wallMs: number; cpuMs: number };
  batch32PerImageMs: { wallMs: number; cpuMs: number };
  batch32FlipPerImageMs: { wallMs: number; cpuMs: number };
}
interface SpeedResult {
  threads: number;
  flipChosen: boolean;
  results: Record<'trained' | 'previous', { architecture: string; layers: SpeedPath; graph: SpeedPath }>;
}

async function main(): Promise<void> {
  if (!existsSync(archive)) throw new Error(`benchmark data not found: ${archive} (set BENCH_DATA)`);
  const work = await mkdtemp(join(tmpdir(), 'scones-bench-'));
  const load = () => loadavg()[0].toFixed(2);
  try {
    const staged = join(work, 'staged');
    await stageCifar({ source: archive, sink: directorySink(staged) });
    const loadBefore = load();

    // 1. The default preset, exactly as a user runs it, for each seed.
    const rows: SeedRow[] = [];
    for (const seed of seeds) rows.push(await train(staged, join(work, `model-${seed}`), seed));
    // 2. The quick preset the demo uses.
    const quickRow = quick ? await train(staged, join(work, 'model-quick'), 42, ['--quick']) : undefined;

    // 3. The model's arithmetic, 1 and 2 wasm threads (a fresh process each).
    const speed: Record<string, SpeedResult> = {};
    for (const threads of ['0', '1']) {
      const run = await node(join(root, 'tools/run-ts.js'), [join(root, 'libs/image-classifier/bench/inference-speed.ts'), join(work, `model-${seeds[0]}`), staged], { SCONES_TFJS_THREADS: threads });
      if (run.code !== 0) throw new Error(`inference-speed failed:\n${run.stderr.slice(-2000)}`);
      const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as SpeedResult;
      speed[result.threads] = result;
    }

    // 4. The loaded artifact end to end (PNG bytes → probabilities), default threads, in this process.
    const backend = await backendInfo();
    const classifier = await loadClassifier(join(work, `model-${seeds[0]}`));
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

    const accuracies = rows.map((r) => r.manifest.test?.accuracy ?? Number.NaN);
    const meanAccuracy = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
    const coverages = rows.map((r) => r.testCoverage);
    const spread = Math.max(...coverages) - Math.min(...coverages);
    const first = rows[0].manifest;
    const h = first.training.hyperparameters;
    const seedTable = [
      '| seed | test accuracy | validation accuracy | wall s | CPU s (user+sys) | peak RSS | threshold | validation coverage | test coverage | test precision of passed |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.seed} | ${r.manifest.test?.accuracy.toFixed(3)} | ${r.validationAccuracy.toFixed(3)} (${r.manifest.training.validationCount} images) | ${r.run.seconds.toFixed(1)} | ${r.run.cpuSeconds.toFixed(1)} | ${r.run.peakMiB.toFixed(0)} MiB | ${r.manifest.threshold.value.toFixed(4)} | ${pct(r.manifest.threshold.coverage)} | ${pct(r.testCoverage)} | ${r.testPassedPrecision.toFixed(3)} |`,
      ),
      ...(quickRow
        ? [
            `| quick, 42 | ${quickRow.manifest.test?.accuracy.toFixed(3)} | ${quickRow.validationAccuracy.toFixed(3)} (${quickRow.manifest.training.validationCount} images) | ${quickRow.run.seconds.toFixed(1)} | ${quickRow.run.cpuSeconds.toFixed(1)} | ${quickRow.run.peakMiB.toFixed(0)} MiB | ${quickRow.manifest.threshold.value.toFixed(4)} | ${pct(quickRow.manifest.threshold.coverage)} | ${pct(quickRow.testCoverage)} | ${quickRow.testPassedPrecision.toFixed(3)} |`,
          ]
        : []),
    ];
    const verdicts = [
      `mean test accuracy ${meanAccuracy.toFixed(3)} (goal ≥ ${GOAL.meanAccuracy}: ${meanAccuracy >= GOAL.meanAccuracy ? 'met' : `short by ${(GOAL.meanAccuracy - meanAccuracy).toFixed(3)}`})`,
      `lowest seed ${Math.min(...accuracies).toFixed(3)} (goal ≥ ${GOAL.seedAccuracy}: ${Math.min(...accuracies) >= GOAL.seedAccuracy ? 'met' : 'not met'})`,
      `slowest run ${Math.max(...rows.map((r) => r.run.seconds)).toFixed(0)} s wall (goal ≤ ${GOAL.seconds} s: ${Math.max(...rows.map((r) => r.run.seconds)) <= GOAL.seconds ? 'met' : 'not met'}; the load average is below)`,
      `test coverage ${coverages.map(pct).join(', ')}: lowest ${pct(Math.min(...coverages))} (goal ≥ ${pct(GOAL.minCoverage)}), spread ${(spread * 100).toFixed(1)} points (goal ≤ ${GOAL.coverageSpread * 100}), precision of passed ≥ ${Math.min(...rows.map((r) => r.testPassedPrecision)).toFixed(3)} (goal ≥ ${GOAL.passedPrecision})`,
      ...(quickRow ? [`quick: ${quickRow.run.seconds.toFixed(1)} s for \`scones train --quick\` alone (the demo's whole run must stay under ${GOAL.quickSeconds} s)`] : []),
    ];
    const speedRow = (label: string, pick: (s: SpeedPath) => { wallMs: number; cpuMs: number }) =>
      `| ${label} | ${(['1', '2'] as const)
        .map((t) => speed[t])
        .filter(Boolean)
        .flatMap((s) => (['previous', 'trained'] as const).flatMap((net) => (['layers', 'graph'] as const).map((path) => `${pick(s.results[net][path]).wallMs.toFixed(2)} (${pick(s.results[net][path]).cpuMs.toFixed(2)})`)))
        .join(' | ')} |`;
    const threadsSeen = (['1', '2'] as const).filter((t) => speed[t]);
    const speedHeader = threadsSeen.flatMap((t) => (['previous', 'trained'] as const).flatMap((net) => (['layers', 'graph'] as const).map((path) => `${t} thr, ${net}, ${path}`)));
    const md = [
      '## image-classifier: training and the model alone',
      '',
      'Command: `npx nx run image-classifier:bench` (libs/image-classifier/bench/image-classifier.bench.ts). Each training is',
      '`scones train --data <staged> --out <dir> --seed N --job-name bench-N --json` on the 1000 training images of ../shared/data',
      `(staged with the cifar-decoder); validation = ${first.training.validationCount} of them (stratified); the 200 test images are read once, after training.`,
      '',
      `- Date: ${new Date().toISOString()}`,
      `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load average (1 min) ${loadBefore} before, ${load()} after`,
      `- Network: ${h.architecture}, ${first.training.epochs} epochs, batch ${h.batchSize}, ${h.schedule}, weight average ${h.emaDecay ?? 'none'}, flip TTA ${h.testTimeFlip}`,
      '',
      seedTable.join('\n'),
      '',
      ...verdicts.map((v) => `- ${v}`),
      '',
      'The model alone: milliseconds wall (CPU) per call for one image, one image + its mirror, and per image in a batch of 32;',
      '`previous` is the network this one replaces (resnet9-16-32-64-128, untrained: the same arithmetic); `layers` is tfjs-layers',
      '`predict` as served before (the mirror as a second call), `graph` the compiled serving graph (batch norm folded, ReLU fused, mirror in the same call).',
      '',
      `| | ${speedHeader.join(' | ')} |`,
      `|---|${speedHeader.map(() => '---').join('|')}|`,
      speedRow('one image', (s) => s.singleMs),
      speedRow('one image + mirror', (s) => s.singleFlipMs),
      speedRow('batch of 32, per image', (s) => s.batch32PerImageMs),
      speedRow('batch of 32 + mirrors, per image', (s) => s.batch32FlipPerImageMs),
      '',
      `The loaded artifact (seed ${seeds[0]}, flip TTA ${speed[String(backend.threads)]?.flipChosen ?? '?'}), PNG bytes → probabilities, ${backend.threads} thread(s): p50 ${median(latencies).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms (400 calls); 200 images in one call: ${batchImagesPerSecond.toFixed(0)} images/s.`,
      '',
      `Per-epoch history (seed ${seeds[0]}):`,
      '',
      '| epoch | train acc | val acc | val loss | seconds |',
      '|---|---|---|---|---|',
      ...first.training.history.map((e) => `| ${e.epoch} | ${e.trainAccuracy.toFixed(3)} | ${e.validationAccuracy.toFixed(3)} | ${e.validationLoss.toFixed(3)} | ${e.seconds.toFixed(1)} |`),
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
