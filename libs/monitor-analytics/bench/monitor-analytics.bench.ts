// Benchmark: analysing 100 000 captured requests (read, validate, metrics, image statistics,
// embeddings by the model, drift checks), from a directory and from the embedded S3. The model is
// an untrained network of the full training preset's shape: embedding costs what the trained
// model's does (same layers), without a training run.
//   node tools/run-ts.js libs/monitor-analytics/bench/monitor-analytics.bench.ts [records]
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { buildResNet, computeBaseline, createClassifier, embedImages, initBackend, predictProbabilities, TRAINING_PRESETS, type RgbImage } from '@scones/image-classifier';
import { createS3Client } from '@scones/local-cloud';
import { startLocalS3 } from '@scones/stack-core/testing';
import {
  analyzeCapture,
  baselineFromManifest,
  captureFiles,
  cifarLikeProfile,
  directoryCaptureSource,
  s3CaptureSource,
  seededRandom,
  syntheticImage,
  syntheticManifest,
  syntheticTraffic,
  DEFAULT_EMBEDDING_SAMPLE_SIZE,
  type TrafficProfile,
} from '../src/index';

/** A network of the full preset's shape, its baseline computed from synthetic validation and training images as training would. */
async function fullSizeModel(random: () => number, profile: TrafficProfile) {
  await initBackend();
  const preset = TRAINING_PRESETS.full;
  const { model } = buildResNet({ ...preset, numClasses: 2, inputSize: { width: 32, height: 32 }, seed: 1 });
  const preprocessing = { width: 32, height: 32, channels: 3 as const, mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.25, 0.25, 0.25] as [number, number, number] };
  const images = (n: number): RgbImage[] => Array.from({ length: n }, () => syntheticImage(random, profile.brightness(random)));
  const validation = images(100);
  const training = images(900);
  const baselineData = computeBaseline(validation, predictProbabilities(model, validation, preprocessing), 2, {
    validation: embedImages(model, validation, preprocessing),
    training: embedImages(model, training, preprocessing),
  });
  const manifest = { ...syntheticManifest({ baseline: baselineData }), preprocessing, modelPath: 'model.json' };
  return { manifest, classifier: createClassifier(model, manifest) };
}

const RECORDS = Number(process.argv[2] ?? 100_000);
const REPEATS = 3;
const GOAL_SECONDS = 10;
const ENDPOINT = 'bench-endpoint';
const START = Date.parse('2026-03-01T00:00:00Z');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const random = seededRandom(1);
  const profile = cifarLikeProfile();
  // 1 000 distinct images (encoding 100 000 PNGs would dominate the setup); every record still has
  // its own time, id and probabilities.
  const lines = syntheticTraffic({ random, count: RECORDS, start: new Date(START), intervalMs: 500, profile, distinctImages: 1000 });
  const files = captureFiles(ENDPOINT, lines, 1000);
  const bytes = [...files.values()].reduce((s, f) => s + Buffer.byteLength(f), 0);
  const { manifest, classifier } = await fullSizeModel(random, profile);
  const baseline = baselineFromManifest(manifest, 'bench');

  const root = await mkdtemp(join(tmpdir(), 'monitor-bench-'));
  // The first tenth of the files again, on their own: the linearity check.
  const tenthFiles = [...files.entries()].slice(0, Math.max(1, Math.floor(files.size / 10)));
  const tenth = tenthFiles.reduce((s, [, body]) => s + body.split('\n').length - 1, 0);
  for (const [dir, entries] of [['capture', [...files.entries()]], ['tenth', tenthFiles]] as const) {
    for (const [key, body] of entries) {
      await mkdir(dirname(join(root, dir, key)), { recursive: true });
      await writeFile(join(root, dir, key), body);
    }
  }
  const s3 = await startLocalS3({ directory: join(root, 's3'), buckets: ['bench'] });
  const client = createS3Client(s3.target);
  for (const [key, body] of files) await client.send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: body }));

  const directory = () => directoryCaptureSource({ directory: join(root, 'capture'), endpointName: ENDPOINT });
  const bucket = () => s3CaptureSource({ client, bucket: 'bench', endpointName: ENDPOINT });
  const embedder = classifier;
  const cases: Array<{ name: string; run: () => Promise<unknown> }> = [
    { name: `directory, 10 000-image sample, ${DEFAULT_EMBEDDING_SAMPLE_SIZE.toLocaleString('en-US')} embedded (default)`, run: () => analyzeCapture({ endpointName: ENDPOINT, source: directory(), baseline, embedder }) },
    { name: `embedded S3, 10 000-image sample, ${DEFAULT_EMBEDDING_SAMPLE_SIZE.toLocaleString('en-US')} embedded (default)`, run: () => analyzeCapture({ endpointName: ENDPOINT, source: bucket(), baseline, embedder }) },
    { name: 'directory, 10 000-image sample, 4 000 embedded', run: () => analyzeCapture({ endpointName: ENDPOINT, source: directory(), baseline, embedder, embeddingSampleSize: 4000 }) },
    { name: 'directory, 10 000-image sample, none embedded', run: () => analyzeCapture({ endpointName: ENDPOINT, source: directory(), baseline, embedder, embeddingSampleSize: 0 }) },
    { name: 'directory, every image decoded, none embedded', run: () => analyzeCapture({ endpointName: ENDPOINT, source: directory(), baseline, imageSampleSize: RECORDS, embeddingSampleSize: 0 }) },
    { name: 'directory, no image statistics', run: () => analyzeCapture({ endpointName: ENDPOINT, source: directory(), baseline, imageSampleSize: 0 }) },
  ];
  const rows: string[] = [];
  const results: Record<string, number> = {};
  for (const c of cases) {
    const times: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const t0 = performance.now();
      await c.run();
      times.push((performance.now() - t0) / 1000);
    }
    const m = median(times);
    results[c.name] = m;
    const line = `| ${c.name} | ${m.toFixed(2)} | ${((m / RECORDS) * 1e6).toFixed(1)} | ${Math.round(RECORDS / m).toLocaleString('en-US')} |`;
    rows.push(line);
    process.stdout.write(`${c.name}: median ${m.toFixed(2)} s of ${times.map((t) => t.toFixed(2)).join(', ')}\n`);
  }
  // Linearity: the parse/validate/metrics path (no image sample, whose size is capped) on a tenth.
  const tenthTimes: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    await analyzeCapture({ endpointName: ENDPOINT, source: directoryCaptureSource({ directory: join(root, 'tenth'), endpointName: ENDPOINT }), baseline, imageSampleSize: 0 });
    tenthTimes.push((performance.now() - t0) / 1000);
  }
  await s3.stop();
  await rm(root, { recursive: true, force: true });

  const main = results[cases[0].name];
  classifier.dispose();
  const decodeMicros = ((results[cases[4].name] - results[cases[5].name]) / RECORDS) * 1e6;
  const embedMillis = ((results[cases[2].name] - results[cases[3].name]) / 4000) * 1e3;
  const met = main <= GOAL_SECONDS;
  const md = [
    '## monitor-analytics: analysing captured traffic',
    '',
    `Command: \`npx nx run monitor-analytics:bench\` (\`node tools/run-ts.js libs/monitor-analytics/bench/monitor-analytics.bench.ts\`)  `,
    `Date: ${new Date().toISOString().slice(0, 10)}  `,
    `Data: ${RECORDS.toLocaleString('en-US')} SageMaker data-capture records (32×32 PNG inputs, 2-class outputs) in ${files.size} JSONL files, ${(bytes / 2 ** 20).toFixed(0)} MiB; baseline of 100 validation and 900 training images. Model: the full preset's network (${TRAINING_PRESETS.full.architecture} ${TRAINING_PRESETS.full.widths.join('-')}), untrained: the same computation as the trained one. Median of ${REPEATS} runs. Each run reads every line, validates it with the zod schema, computes all metrics, embeds the sample with the model (wasm) and runs every drift check (the embedding test: whitened 5-nearest-training distances, log-rank test with 2 000 permutations).`,
    '',
    '| case | seconds | µs / record | records / s |',
    '|---|---:|---:|---:|',
    ...rows,
    `| directory, no image statistics, ${tenth.toLocaleString('en-US')} records (linearity) | ${median(tenthTimes).toFixed(2)} | ${((median(tenthTimes) / tenth) * 1e6).toFixed(1)} | ${Math.round(tenth / median(tenthTimes)).toLocaleString('en-US')} |`,
    '',
    `Goal: ${RECORDS.toLocaleString('en-US')} records in ≤ ${GOAL_SECONDS} s — ${met ? `met (${main.toFixed(1)} s, ${(GOAL_SECONDS / main).toFixed(1)}× under)` : `NOT met (${main.toFixed(1)} s, ${(main / GOAL_SECONDS).toFixed(1)}× over)`}. ` +
      `Embedding costs ${embedMillis.toFixed(2)} ms per input here ((4 000 embedded − none embedded) / 4 000, including the distances to the training images); the embedding sample size is an option (\`embeddingSampleSize\`, \`scones report --embedding-sample\`, \`EMBEDDING_SAMPLE_SIZE\`). ` +
      `Image statistics use a uniform sample of 10 000 inputs by default: decoding (and averaging) a 32×32 PNG costs ${decodeMicros.toFixed(0)} µs here ` +
      `(("every image decoded" − "no image statistics") / records), most of the cost when every input is decoded; 10 000 samples estimate brightness quantiles to about ±1 %. ` +
      `Work per record is constant: compare the two "no image statistics" rows (${tenth.toLocaleString('en-US')} vs ${RECORDS.toLocaleString('en-US')} records).`,
    '',
  ].join('\n');
  await mkdir('dist/bench', { recursive: true });
  await writeFile('dist/bench/monitor-analytics.md', md);
  process.stdout.write(`\n${md}\nwrote dist/bench/monitor-analytics.md\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
