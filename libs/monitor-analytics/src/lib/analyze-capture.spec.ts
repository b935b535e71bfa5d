import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { parseCaptureLine } from './capture-record';
import { analyzeCapture } from './analyze-capture';
import { baselineFromManifest } from './baseline';
import { directoryCaptureSource, s3CaptureSource } from './capture-source';
import { CaptureSourceError } from '../errors';
import { captureFiles, cifarLikeProfile, seededRandom, syntheticBaseline, syntheticManifest, syntheticTraffic } from './synthetic-traffic';

const ENDPOINT = 'scones-endpoint';
const START = new Date('2026-03-01T09:30:00.000Z');
const random = seededRandom(2024);
const traffic = syntheticTraffic({ random, count: 400, start: START, intervalMs: 18_000, profile: cifarLikeProfile(), distinctImages: 60 });
const baseline = baselineFromManifest(syntheticManifest({ baseline: syntheticBaseline(random, 200, cifarLikeProfile()), threshold: 0.8 }), 'test manifest');
const files = captureFiles(ENDPOINT, traffic, 50);
const keys = [...files.keys()];
// Two bad lines in the third file (10:00 onwards): broken JSON and a three-class answer.
const brokenKey = keys[2];
const brokenLines = files.get(brokenKey)!.split('\n');
brokenLines.splice(2, 0, '{"captureData": {');
brokenLines.splice(4, 0, brokenLines[4].replace(/\[([0-9.e-]+),([0-9.e-]+)\]/, '[0.5,0.25,0.25]'));
files.set(brokenKey, brokenLines.join('\n'));

const window = { since: new Date('2026-03-01T10:00:00.000Z'), until: new Date('2026-03-01T11:00:00.000Z') };
const inWindow = traffic.filter((t) => t.time >= window.since && t.time < window.until);
// The expected figures, computed independently from the generated lines.
const expected = inWindow.map((t) => {
  const parsed = parseCaptureLine(t.line, 'x', 1, 2);
  if (!parsed.ok) throw new Error('fixture');
  return parsed.record;
});

let root: string;
let s3: LocalS3;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'monitor-analytics-'));
  for (const [key, body] of files) {
    await mkdir(dirname(join(root, key)), { recursive: true });
    await writeFile(join(root, key), body);
  }
  // Files that must be ignored: another endpoint, and a non-capture file.
  const other = join(root, 'data_capture/other-endpoint/AllTraffic/2026/03/01/10/00-00-000-x.jsonl');
  await mkdir(dirname(other), { recursive: true });
  await writeFile(other, 'garbage\n');
  await writeFile(join(root, 'data_capture', ENDPOINT, 'notes.txt'), 'not a capture file');
  s3 = await startLocalS3({ directory: join(root, 's3'), buckets: ['scones'] });
  const client = createS3Client(s3.target);
  for (const [key, body] of files) await client.send(new PutObjectCommand({ Bucket: 'scones', Key: key, Body: body }));
});

afterAll(async () => {
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('analyzeCapture', () => {
  it('computes the metrics of exactly the records inside the window', async () => {
    const analysis = await analyzeCapture({ endpointName: ENDPOINT, source: directoryCaptureSource({ directory: root, endpointName: ENDPOINT }), baseline, window });
    const m = analysis.metrics;
    expect(m.records.analyzed).toBe(expected.length);
    expect(m.records.outsideWindow).toBeGreaterThan(0);
    expect(m.classCounts).toEqual([0, 1].map((k) => expected.filter((r) => r.predictedClass === k).length));
    expect(m.confidence.belowThreshold.count).toBe(expected.filter((r) => r.confidence < 0.8).length);
    expect(m.confidence.distribution.min).toBe(Math.min(...expected.map((r) => r.confidence)));
    expect(m.firstTime).toBe('2026-03-01T10:00:00.000Z');
    expect(m.lastTime).toBe(new Date(Math.max(...expected.map((r) => r.time))).toISOString());
    expect(m.rate.perMinute).toBeCloseTo((expected.length / ((expected.at(-1)!.time - expected[0].time) / 1000)) * 60, 6);
    expect(m.timeline.bucketSeconds).toBe(60);
    expect(m.timeline.buckets.reduce((s, b) => s + b.count, 0)).toBe(expected.length);
    expect(m.confidence.histogram.reduce((s, b) => s + b.count, 0)).toBe(expected.length);
    expect(m.images).toMatchObject({ sampled: expected.length, undecodable: 0, dimensions: [{ width: 32, height: 32, count: expected.length }], contentTypes: { 'image/png': expected.length } });
    expect(m.images.brightness.r.mean).toBeGreaterThan(0.3);
    expect(m.images.brightness.r.mean).toBeLessThan(0.6);
    // Drift itself is tested in drift.spec.ts; here: every check had enough data to run.
    expect(analysis.drift.checks.map((c) => c.status)).not.toContain('insufficient-data');
    expect(analysis.files.read).toBeGreaterThanOrEqual(4);
  });

  it('reports each malformed line with its file and line number, without stopping', async () => {
    const analysis = await analyzeCapture({ endpointName: ENDPOINT, source: directoryCaptureSource({ directory: root, endpointName: ENDPOINT }), baseline, window });
    expect(analysis.metrics.records.malformed).toBe(2);
    expect(analysis.metrics.malformedLines).toEqual([
      { file: brokenKey, line: 3, reason: expect.stringContaining('not valid JSON') },
      { file: brokenKey, line: 5, reason: expect.stringContaining('expected 2 class probabilities') },
    ]);
  });

  it('keeps the most recent and the lowest-confidence inputs with their labels', async () => {
    const analysis = await analyzeCapture({ endpointName: ENDPOINT, source: directoryCaptureSource({ directory: root, endpointName: ENDPOINT }), baseline, window, exampleCount: 5 });
    const byTime = [...expected].sort((a, b) => b.time - a.time).slice(0, 5);
    expect(analysis.examples.recent.map((e) => e.eventId)).toEqual(byTime.map((r) => r.eventId));
    const byConfidence = [...expected].sort((a, b) => a.confidence - b.confidence).slice(0, 5);
    expect(analysis.examples.lowestConfidence.map((e) => e.confidence)).toEqual(byConfidence.map((r) => r.confidence));
    const example = analysis.examples.lowestConfidence[0];
    expect(example).toMatchObject({ format: 'png', predictedLabel: ['bicycle', 'motorcycle'][example.predictedClass], belowThreshold: example.confidence < 0.8 });
  });

  it('reads the same records from the embedded S3 as from a directory', async () => {
    const fromDirectory = await analyzeCapture({ endpointName: ENDPOINT, source: directoryCaptureSource({ directory: root, endpointName: ENDPOINT }), baseline, window });
    const fromS3 = await analyzeCapture({
      endpointName: ENDPOINT,
      source: s3CaptureSource({ client: createS3Client(s3.target), bucket: 'scones', endpointName: ENDPOINT }),
      baseline,
      window,
    });
    expect(fromS3.location).toBe(`s3://scones/data_capture/${ENDPOINT}/AllTraffic/`);
    expect(fromS3.metrics).toEqual(fromDirectory.metrics);
    expect(fromS3.drift).toEqual(fromDirectory.drift);
  });

  it('samples the same images whatever the reading order', async () => {
    const run = (concurrency: number) =>
      analyzeCapture({ endpointName: ENDPOINT, source: directoryCaptureSource({ directory: root, endpointName: ENDPOINT }), baseline, imageSampleSize: 40, concurrency });
    const [one, four] = await Promise.all([run(1), run(4)]);
    expect(one.metrics.images.sampled).toBe(40);
    expect(four.metrics.images.brightness).toEqual(one.metrics.images.brightness);
    expect(one.metrics.records.analyzed).toBe(400);
  });

  it('rejects an empty window, a missing directory and an aborted run with clear errors', async () => {
    const source = directoryCaptureSource({ directory: root, endpointName: ENDPOINT });
    await expect(analyzeCapture({ endpointName: ENDPOINT, source, baseline, window: { since: window.until, until: window.since } })).rejects.toThrow(
      'empty time window: since 2026-03-01T11:00:00.000Z is not before until 2026-03-01T10:00:00.000Z',
    );
    const missing = directoryCaptureSource({ directory: join(root, 'nope'), endpointName: ENDPOINT });
    await expect(analyzeCapture({ endpointName: ENDPOINT, source: missing, baseline })).rejects.toThrow(CaptureSourceError);
    await expect(analyzeCapture({ endpointName: ENDPOINT, source: missing, baseline })).rejects.toThrow(/capture directory .*nope: does not exist/);
    const controller = new AbortController();
    controller.abort();
    await expect(analyzeCapture({ endpointName: ENDPOINT, source, baseline, signal: controller.signal })).rejects.toThrow();
  });

  it('names the bucket when S3 cannot be listed', async () => {
    const source = s3CaptureSource({ client: createS3Client(s3.target), bucket: 'no-such-bucket', endpointName: ENDPOINT });
    await expect(analyzeCapture({ endpointName: ENDPOINT, source, baseline })).rejects.toThrow(
      `cannot list capture files at s3://no-such-bucket/data_capture/${ENDPOINT}/AllTraffic/: NoSuchBucket`,
    );
  });

  it('produces an empty analysis when nothing was captured', async () => {
    const analysis = await analyzeCapture({ endpointName: 'silent', source: directoryCaptureSource({ directory: root, endpointName: 'silent' }), baseline });
    expect(analysis.metrics.records).toEqual({ analyzed: 0, outsideWindow: 0, malformed: 0 });
    expect(analysis.metrics.firstTime).toBeNull();
    expect(analysis.metrics.timeline.buckets).toEqual([]);
    expect(analysis.drift.checks.every((c) => c.status === 'insufficient-data' || c.status === 'not-available')).toBe(true);
    expect(analysis.modelMonitor.violations).toEqual({ violations: [] });
    expect(analysis.modelMonitor.statistics.dataset.item_count).toBe(0);
  });
});
