import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { analyzeCapture } from '../analyze-capture';
import { baselineFromManifest, type MonitoringBaseline } from '../baseline';
import { directoryCaptureSource } from '../capture-source';
import { DEFAULT_DRIFT_POLICY } from '../drift';
import { seededRandom } from '../random';
import { captureFiles, cifarLikeProfile, colourEmbedder, normalSample, syntheticBaseline, syntheticEmbeddingBaseline, syntheticManifest, syntheticTraffic } from '../synthetic-traffic';
import { baselineFeatureData, constraintsFile, statisticsFile, violationsFile } from './documents';
import { constraintsFileSchema, constraintViolationsFileSchema, statisticsFileSchema } from './schema';

const ENDPOINT = 'mm-endpoint';
const START = new Date('2026-03-01T08:00:00.000Z');
// Other CIFAR-100 classes look different: bluish, brighter (sky, sea), as the real ones do.
const foreign = cifarLikeProfile({ brightness: (r) => ({ r: 0.3 + 0.06 * normalSample(r), g: 0.5 + 0.06 * normalSample(r), b: 0.72 + 0.06 * normalSample(r) }) });

let root: string;
let baseline: MonitoringBaseline;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'model-monitor-'));
  const random = seededRandom(21);
  const normal = cifarLikeProfile();
  const manifest = syntheticManifest({ jobName: 'mm-job', baseline: { ...syntheticBaseline(random, 200, normal), imageSizes: { '32x32': 200 }, embedding: syntheticEmbeddingBaseline(random, normal, { validation: 200, training: 600 }) } });
  baseline = baselineFromManifest(manifest, 'synthetic');
  // An hour of normal traffic, then an hour in which half the requests are foreign images.
  const first = syntheticTraffic({ random, count: 240, start: START, intervalMs: 15_000, profile: normal });
  const secondNormal = syntheticTraffic({ random, count: 120, start: new Date(START.getTime() + 3_600_000), intervalMs: 30_000, profile: normal });
  const secondForeign = syntheticTraffic({ random, count: 120, start: new Date(START.getTime() + 3_600_000 + 15_000), intervalMs: 30_000, profile: foreign });
  const lines = [...first, ...secondNormal, ...secondForeign.map((t, i) => ({ ...t, line: t.line.replace(/"eventId":"[^"]+"/, `"eventId":"foreign-${i}"`) }))];
  for (const [key, body] of captureFiles(ENDPOINT, lines, 60)) {
    await mkdir(dirname(join(root, key)), { recursive: true });
    await writeFile(join(root, key), body);
  }
});
afterAll(() => rm(root, { recursive: true, force: true }));

const analyze = (window?: { since: Date; until: Date }) =>
  analyzeCapture({ endpointName: ENDPOINT, source: directoryCaptureSource({ directory: root, endpointName: ENDPOINT }), baseline, window, embedder: colourEmbedder });

describe('the Model Monitor files of a report', () => {
  it('hold the documented schema: the baseline statistics and constraints, the window statistics and violations', async () => {
    const analysis = await analyze();
    expect(statisticsFileSchema.parse(statisticsFile(baselineFeatureData(baseline)))).toBeDefined();
    expect(constraintsFileSchema.parse(constraintsFile(baseline, DEFAULT_DRIFT_POLICY))).toBeDefined();
    const statistics = statisticsFileSchema.parse(analysis.modelMonitor.statistics);
    constraintViolationsFileSchema.parse(analysis.modelMonitor.violations);
    expect(statistics.dataset.item_count).toBe(480);
    expect(statistics.features.map((f) => f.name)).toEqual(['confidence', 'predicted_class', 'brightness_red', 'brightness_green', 'brightness_blue', 'image_size', 'embedding_distance']);
    const confidence = statistics.features[0];
    if (confidence.inferred_type === 'String') throw new Error('confidence is numerical');
    expect(confidence.numerical_statistics.common).toEqual({ num_present: 480, num_missing: 0 });
    expect(confidence.numerical_statistics.mean).toBeCloseTo(analysis.metrics.confidence.distribution.mean, 12);
    expect(confidence.numerical_statistics.distribution?.kll.buckets.reduce((s, b) => s + b.count, 0)).toBe(480);
    expect(confidence.numerical_statistics.distribution?.kll.sketch).toMatchObject({ parameters: { c: 0.64, k: 2048 } });
    const classes = statistics.features[1];
    if (classes.inferred_type !== 'String') throw new Error('predicted_class is a string feature');
    expect(classes.string_statistics.distribution.categorical.buckets.reduce((s, b) => s + b.count, 0)).toBe(480);
  });

  it('list each violated check once, with its feature and documented check type', async () => {
    const analysis = await analyze();
    const violated = analysis.drift.checks.filter((c) => c.status === 'violation');
    expect(analysis.modelMonitor.violations).toEqual(violationsFile(analysis.drift.checks));
    expect(analysis.modelMonitor.violations.violations).toEqual(
      violated.map((c) => ({ feature_name: c.feature, constraint_check_type: c.checkType, description: `${c.metric}: ${c.description}` })),
    );
    expect(violated.map((c) => c.metric)).toContain('embedding_log_rank');
  });

  it('are refused when a documented field is missing or has an undocumented value', () => {
    const statistics = statisticsFile(baselineFeatureData(baseline));
    const { dataset: _dropped, ...withoutDataset } = statistics;
    expect(statisticsFileSchema.safeParse(withoutDataset).success).toBe(false);
    const badType = { ...statistics, features: [{ ...statistics.features[0], inferred_type: 'Float' }] };
    expect(statisticsFileSchema.safeParse(badType).success).toBe(false);
    const extraField = { ...statistics, features: [{ ...statistics.features[0], colour: 'blue' }] };
    expect(statisticsFileSchema.safeParse(extraField).success).toBe(false);
    const constraints = constraintsFile(baseline, DEFAULT_DRIFT_POLICY);
    expect(constraintsFileSchema.safeParse({ ...constraints, monitoring_config: { ...constraints.monitoring_config, evaluate_constraints: 'On' } }).success).toBe(false);
    expect(constraintViolationsFileSchema.safeParse({ violations: [{ feature_name: 'x', constraint_check_type: 'drift', description: 'd' }] }).success).toBe(false);
    // A feature with no value at all has no mean to write: it is left out, never invented.
    const empty = statisticsFile({ ...baselineFeatureData(baseline), brightness: { r: [], g: [], b: [] }, undecodable: 4 });
    expect(statisticsFileSchema.parse(empty).features[2]).toEqual({ name: 'brightness_red', inferred_type: 'Fractional', numerical_statistics: { common: { num_present: 0, num_missing: 4 } } });
  });
});

describe('embedding drift and the out-of-distribution share', () => {
  it('stay quiet on traffic like the baseline', async () => {
    const analysis = await analyze({ since: START, until: new Date(START.getTime() + 3_600_000) });
    const check = analysis.drift.checks.find((c) => c.metric === 'embedding_log_rank')!;
    expect(check.status).toBe('ok');
    if ('unavailable' in analysis.embedding) throw new Error('embeddings expected');
    expect(analysis.embedding.sampled).toBe(240);
    expect(analysis.embedding.outOfDistribution.share!).toBeLessThan(0.15);
  });

  it('flag foreign inputs, and show when they started', async () => {
    const analysis = await analyze();
    const check = analysis.drift.checks.find((c) => c.metric === 'embedding_log_rank')!;
    expect(check.status).toBe('violation');
    expect(check.pValue!).toBeLessThan(check.pValueThreshold);
    if ('unavailable' in analysis.embedding) throw new Error('embeddings expected');
    // Every foreign image is far from every training image; the distinct images are what the test compares.
    expect(analysis.embedding.distinct).toBeLessThanOrEqual(analysis.embedding.sampled);
    const { buckets } = analysis.metrics.timeline;
    const share = (from: number, to: number) => {
      const part = buckets.filter((b) => Date.parse(b.start) >= from && Date.parse(b.start) < to);
      return part.reduce((s, b) => s + b.outOfDistribution, 0) / part.reduce((s, b) => s + b.embedded, 0);
    };
    const switchAt = START.getTime() + 3_600_000;
    expect(share(START.getTime(), switchAt)).toBeLessThan(0.15);
    expect(share(switchAt, switchAt + 3_600_000)).toBeGreaterThan(0.4);
    expect(buckets.reduce((s, b) => s + b.embedded, 0)).toBe(analysis.embedding.sampled);
  });

  it('are reported as not available, saying why, without a model or without embeddings in the manifest', async () => {
    const withoutEmbedder = await analyzeCapture({ endpointName: ENDPOINT, source: directoryCaptureSource({ directory: root, endpointName: ENDPOINT }), baseline });
    expect(withoutEmbedder.embedding).toEqual({ unavailable: 'no model was loaded to embed the captured inputs' });
    expect(withoutEmbedder.drift.checks.find((c) => c.metric === 'embedding_log_rank')).toMatchObject({ status: 'not-available' });
    const { embedding: _none, ...older } = baseline;
    const old = await analyzeCapture({ endpointName: ENDPOINT, source: directoryCaptureSource({ directory: root, endpointName: ENDPOINT }), baseline: older, embedder: colourEmbedder });
    expect('unavailable' in old.embedding && old.embedding.unavailable).toContain('has no embeddings');
    expect(old.modelMonitor.statistics.features.map((f) => f.name)).not.toContain('embedding_distance');
  });

  it('refuse an embedding of another length than the baseline\'s', async () => {
    const wrong = { embed: async (images: unknown[]) => images.map(() => new Float32Array(5)) };
    await expect(analyzeCapture({ endpointName: ENDPOINT, source: directoryCaptureSource({ directory: root, endpointName: ENDPOINT }), baseline, embedder: wrong })).rejects.toThrow(
      'embedding 0 has 5 values, the baseline\'s have 24',
    );
  });
});
