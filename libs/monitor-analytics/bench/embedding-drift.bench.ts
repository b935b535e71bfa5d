// Benchmark: detection and false-alarm rates of the embedding drift test on the real CIFAR-100
// images, with a trained model (its manifest must carry the embedding baseline):
//   windows of 400 requests drawn from the test split alone (false alarms), and
//   windows of 400 requests of which 25 % are other CIFAR-100 classes (detections), 100 of each.
//   node tools/run-ts.js libs/monitor-analytics/bench/embedding-drift.bench.ts --model <artifact dir> [--windows 100]
//   node tools/run-ts.js libs/monitor-analytics/bench/embedding-drift.bench.ts --s3-dir .scones/s3 [--job <name>]
// The test split is only traffic here: nothing is chosen on it (the rules come from validation data).
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeCifarBatch, encodeCifarRowPng, readCifarArchive } from '@scones/cifar-decoder';
import { decodeImage, loadClassifier, type Classifier, type RgbImage } from '@scones/image-classifier';
import { createS3Client } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import {
  analyzeEmbeddings,
  DEFAULT_DRIFT_POLICY,
  DEFAULT_OOD_QUANTILE,
  embeddingRules,
  loadBaselineFromDirectory,
  perCheckSignificance,
  resolveBaseline,
  seededRandom,
  type MonitoringBaseline,
} from '../src/index';
import { WHITENING_SHRINKAGE } from '../src/lib/embedding-drift';

const SHARED = join(__dirname, '../../../../shared/data');
const WINDOW = 400;
const FOREIGN_SHARE = 0.25;
const GOALS = { detections: 95, falseAlarms: 2 };

async function main() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      's3-dir': { type: 'string' },
      job: { type: 'string' },
      windows: { type: 'string', default: '100' },
      source: { type: 'string', default: join(SHARED, 'cifar-100-python-bicycle-motorcycle.tar.gz') },
      foreign: { type: 'string', default: join(SHARED, 'cifar-100-other-classes-train-sample.pkl') },
    },
  });
  const windows = Number(values.windows);
  if (!Number.isInteger(windows) || windows < 1) throw new Error(`--windows: expected a whole number >= 1, got ${values.windows}`);
  for (const file of [values.source, values.foreign]) if (!existsSync(file)) throw new Error(`${file} does not exist (the real CIFAR-100 rows: see ../shared/data/README.md)`);
  if (!values.model && !values['s3-dir']) throw new Error('name the model: --model <artifact directory> or --s3-dir <embedded S3 directory> [--job <name>]');

  let s3: LocalS3 | undefined;
  let classifier: Classifier;
  let baseline: MonitoringBaseline;
  if (values.model) {
    baseline = await loadBaselineFromDirectory(values.model);
    classifier = await loadClassifier(values.model);
  } else {
    s3 = await startLocalS3({ directory: values['s3-dir'] as string, buckets: ['scones'] });
    const client = createS3Client(s3.target);
    baseline = await resolveBaseline({ s3: { client, bucket: 'scones' }, jobName: values.job });
    const artifact = baseline.artifact as { bucket: string; prefix: string };
    classifier = await loadClassifier({ s3: client, bucket: artifact.bucket, prefix: artifact.prefix });
  }
  if (!baseline.embedding) throw new Error(`${baseline.source}: the manifest has no embeddings; train a model with this version (scones train)`);

  const rows = (data: Uint8Array, count: number): RgbImage[] => Array.from({ length: count }, (_, r) => decodeImage(encodeCifarRowPng(data, r)));
  const archive = await readCifarArchive(values.source);
  const test = rows(archive.test.data, archive.test.rows);
  const other = decodeCifarBatch(await readFile(values.foreign), values.foreign);
  const foreign = rows(other.data, other.rows);
  let t = performance.now();
  const testEmbeddings = await classifier.embed(test);
  const foreignEmbeddings = await classifier.embed(foreign);
  const embedMs = (performance.now() - t) / (test.length + foreign.length);
  classifier.dispose();
  await s3?.stop();

  const policy = DEFAULT_DRIFT_POLICY;
  const alpha = perCheckSignificance(policy);
  const rules = embeddingRules(baseline.embedding);
  const random = seededRandom(2026);
  const pick = (n: number) => Math.floor(random() * n);
  const run = (foreignCount: number, seed: number) => {
    // A window of requests: images drawn with replacement (400 requests from 200 test images repeat some, as real traffic does).
    const sample = Array.from({ length: WINDOW }, (_, i) => {
      const isForeign = i < foreignCount;
      const index = isForeign ? pick(foreign.length) : pick(test.length);
      return { time: i * 9000, contentKey: `${isForeign ? 'f' : 't'}${index}`, embedding: isForeign ? foreignEmbeddings[index] : testEmbeddings[index] };
    });
    const started = performance.now();
    const result = analyzeEmbeddings(baseline.embedding!, sample, WINDOW, { permutations: policy.embeddingPermutations, alpha, seed });
    return { flagged: result.test !== null && result.test.pValue < alpha, ood: result.outOfDistribution.share ?? 0, ms: performance.now() - started, distinct: result.distinct };
  };
  t = performance.now();
  const clean = Array.from({ length: windows }, (_, w) => run(0, w));
  const mixed = Array.from({ length: windows }, (_, w) => run(Math.round(WINDOW * FOREIGN_SHARE), 10_000 + w));
  const seconds = (performance.now() - t) / 1000;
  const count = (xs: Array<{ flagged: boolean }>) => xs.filter((x) => x.flagged).length;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const falseAlarms = count(clean);
  const detections = count(mixed);
  const met = (ok: boolean) => (ok ? 'met' : '**missed**');
  const md = [
    '## monitor-analytics: embedding drift on the real images',
    '',
    'Command: `npx nx run monitor-analytics:bench-embedding-drift -- --model <artifact>` (`node tools/run-ts.js libs/monitor-analytics/bench/embedding-drift.bench.ts --model <artifact>`)  ',
    `Date: ${new Date().toISOString().slice(0, 10)}  `,
    `Model: ${baseline.jobName} (${baseline.source}); stage features of ${baseline.embedding.validation.columns} values (per-channel mean and standard deviation of every pooled feature map), baseline ${baseline.embedding.validation.rows} validation and ${baseline.embedding.training.rows} training images.  `,
    `Test: each input's atypicality = mean Mahalanobis distance (training covariance, shrinkage ${WHITENING_SHRINKAGE}) to its ${rules.neighbours} nearest training images; ` +
      `the distinct inputs' atypicalities against the ${baseline.embedding.validation.rows} validation images' by the log-rank (Savage scores) permutation test, ${policy.embeddingPermutations} permutations, violation when p < ${alpha.toFixed(5)} (0.01 over ${Math.round(policy.significanceLevel / alpha)} tests).  `,
    `Windows: ${WINDOW} requests drawn with replacement; "test" = the CIFAR-100 test split's ${test.length} bicycles and motorcycles only; "25 % foreign" = ${WINDOW - WINDOW * FOREIGN_SHARE} from the test split and ${WINDOW * FOREIGN_SHARE} from ${foreign.length} images of 97 other classes. ${windows} windows each.`,
    '',
    '| windows | flagged | goal | distinct images (median) | out-of-distribution share (mean) | test time per window (median) |',
    '|---|---:|---|---:|---:|---:|',
    `| test split only | ${falseAlarms} / ${windows} | ≤ ${GOALS.falseAlarms} — ${met(falseAlarms <= (GOALS.falseAlarms * windows) / 100)} | ${median(clean.map((x) => x.distinct))} | ${(mean(clean.map((x) => x.ood)) * 100).toFixed(1)} % | ${median(clean.map((x) => x.ms)).toFixed(0)} ms |`,
    `| 25 % other classes | ${detections} / ${windows} | ≥ ${GOALS.detections} — ${met(detections >= (GOALS.detections * windows) / 100)} | ${median(mixed.map((x) => x.distinct))} | ${(mean(mixed.map((x) => x.ood)) * 100).toFixed(1)} % | ${median(mixed.map((x) => x.ms)).toFixed(0)} ms |`,
    '',
    `Out of distribution: more atypical than ${(DEFAULT_OOD_QUANTILE * 100).toFixed(0)} % of validation images (atypicality > ${rules.oodThreshold.toFixed(4)}); ${((1 - DEFAULT_OOD_QUANTILE) * 100).toFixed(0)} % expected on healthy traffic. ` +
      `Embedding: ${embedMs.toFixed(2)} ms per image (${test.length + foreign.length} images). All ${2 * windows} tests: ${seconds.toFixed(1)} s.`,
    '',
  ].join('\n');
  await mkdir('dist/bench', { recursive: true });
  await writeFile('dist/bench/embedding-drift.md', md);
  process.stdout.write(`${md}\nwrote dist/bench/embedding-drift.md\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
