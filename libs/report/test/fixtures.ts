import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  analyzeCapture,
  baselineFromManifest,
  captureFiles,
  cifarLikeProfile,
  colourEmbedder,
  directoryCaptureSource,
  seededRandom,
  syntheticBaseline,
  syntheticEmbeddingBaseline,
  syntheticManifest,
  syntheticTraffic,
  type MonitoringAnalysis,
  type MonitoringBaseline,
} from '@scones/monitor-analytics';

export const ENDPOINT = 'scones-endpoint';
export const START = new Date('2026-03-01T08:00:00.000Z');

export interface FixtureOptions {
  classNames?: string[];
  /** The last hour drifts (darker, less confident inputs). Default true. */
  drift?: boolean;
  /** Give the baseline embeddings (a colour-feature stand-in for the model's) and image sizes. Default true. */
  embeddings?: boolean;
}

/**
 * Three hours of synthetic traffic: two normal hours, then an hour of darker inputs the model is
 * unsure about (so the report has violations and below-threshold requests), plus two malformed
 * lines. Written in the capture key layout under `<root>/data_capture/...`.
 */
export async function writeFixtureCapture(root: string, options: FixtureOptions = {}): Promise<{ baseline: MonitoringBaseline; manifest: ReturnType<typeof syntheticManifest> }> {
  const random = seededRandom(42);
  const normal = cifarLikeProfile();
  const drifted = cifarLikeProfile({
    brightness: (r) => {
      const m = normal.brightness(r);
      return { r: m.r * 0.5, g: m.g * 0.5, b: m.b * 0.5 };
    },
    confidence: (r) => 0.5 + 0.4 * r(),
  });
  const first = syntheticTraffic({ random, count: 240, start: START, intervalMs: 30_000, profile: normal, distinctImages: 40 });
  const second = syntheticTraffic({ random, count: 120, start: new Date(START.getTime() + 2 * 3_600_000), intervalMs: 30_000, profile: options.drift === false ? normal : drifted, distinctImages: 30 });
  const files = captureFiles(ENDPOINT, [...first, ...second.map((s, i) => ({ ...s, line: s.line.replace(/"eventId":"[^"]+"/, `"eventId":"drift-${i}"`) }))], 60);
  const [firstKey] = files.keys();
  files.set(firstKey, `${files.get(firstKey)}not json at all\n{"captureData":{}}\n`);
  for (const [key, body] of files) {
    await mkdir(dirname(join(root, key)), { recursive: true });
    await writeFile(join(root, key), body);
  }
  const withEmbeddings = options.embeddings ?? true;
  const baselineData = syntheticBaseline(random, 300, normal);
  const manifest = syntheticManifest({
    classNames: options.classNames,
    jobName: 'scones-job-1',
    threshold: 0.8,
    baseline: withEmbeddings ? { ...baselineData, imageSizes: { '32x32': 300 }, embedding: syntheticEmbeddingBaseline(random, normal, { validation: 300, training: 600 }) } : baselineData,
  });
  return { baseline: baselineFromManifest(manifest, 'models/scones-job-1/manifest.json'), manifest };
}

export async function fixtureAnalysis(root: string, options: FixtureOptions = {}): Promise<{ analysis: MonitoringAnalysis; baseline: MonitoringBaseline }> {
  const { baseline } = await writeFixtureCapture(root, options);
  const analysis = await analyzeCapture({ endpointName: ENDPOINT, source: directoryCaptureSource({ directory: root, endpointName: ENDPOINT }), baseline, embedder: colourEmbedder });
  return { analysis, baseline };
}
