import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encodeCifarRowPng, readCifarArchive, ROW_BYTES, writeCifarFixtureArchive, type CifarArchive } from '@scones/cifar-decoder';
import { channelMeans, decodeImage, encodePng } from '@scones/image-classifier/decode';
import { analyzeCapture } from './analyze-capture';
import type { MonitoringBaseline } from './baseline';
import { directoryCaptureSource } from './capture-source';
import { captureFiles, cifarLikeProfile, createCaptureRecord, normalSample, probabilitiesFor, seededRandom, syntheticImage } from './synthetic-traffic';

// Drift detection on the real CIFAR-100 bicycle/motorcycle rows (../shared/data next to the
// repository; a checkout without it uses cifar-decoder's fixture archive of the same shape, and the
// test names say so). The baseline is a validation-like split of the training rows (every 5th
// row); traffic is the test rows, as captured PNGs, read back through the whole capture path. No
// model is involved: predictions are drawn from one fixed synthetic distribution for baseline and
// traffic alike, so the image checks decide alone.
const SHARED_ARCHIVE = join(__dirname, '../../../../../shared/data/cifar-100-python-bicycle-motorcycle.tar.gz');
const REAL = existsSync(SHARED_ARCHIVE);
const ENDPOINT = 'real-data';

let archive: CifarArchive;
let root: string;
let baseline: MonitoringBaseline;

function rowImage(data: Uint8Array, row: number, scale = 1): Uint8Array {
  const png = encodeCifarRowPng(data, row);
  if (scale === 1) return png;
  const image = decodeImage(png);
  const darker = image.data.map((v) => Math.round(v * scale));
  return encodePng({ ...image, data: darker });
}

async function analyze(name: string, images: Uint8Array[]) {
  const random = seededRandom(31);
  const profile = cifarLikeProfile();
  const start = Date.parse('2026-03-01T00:00:00Z');
  const lines = images.map((image, i) => {
    const time = new Date(start + i * 60_000);
    const probabilities = probabilitiesFor(profile.predictedClass(random), profile.confidence(random), 2);
    return { time, line: JSON.stringify(createCaptureRecord({ time, image, probabilities, eventId: `${name}-${i}` })) };
  });
  const directory = join(root, name);
  for (const [key, body] of captureFiles(ENDPOINT, lines, 50)) {
    await mkdir(dirname(join(directory, key)), { recursive: true });
    await writeFile(join(directory, key), body);
  }
  return analyzeCapture({ endpointName: ENDPOINT, source: directoryCaptureSource({ directory, endpointName: ENDPOINT }), baseline });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'real-drift-'));
  let path = SHARED_ARCHIVE;
  if (!REAL) {
    path = join(root, 'fixture.tar.gz');
    await writeCifarFixtureArchive(path, { trainRows: 1000, testRows: 200, classes: ['bicycle', 'motorcycle'] });
  }
  archive = await readCifarArchive(path);
  const random = seededRandom(30);
  const profile = cifarLikeProfile();
  const brightness = { r: [] as number[], g: [] as number[], b: [] as number[] };
  const confidences: number[] = [];
  const counts = [0, 0];
  for (let row = 0; row < archive.train.rows; row += 5) {
    const means = channelMeans(decodeImage(encodeCifarRowPng(archive.train.data, row)));
    brightness.r.push(means.r);
    brightness.g.push(means.g);
    brightness.b.push(means.b);
    confidences.push(profile.confidence(random));
    counts[profile.predictedClass(random)] += 1;
  }
  baseline = { source: 'validation split of the real training rows', jobName: 'real', classNames: ['bicycle', 'motorcycle'], threshold: 0.8, count: confidences.length, confidences, predictedClassCounts: counts, brightness };
}, 60_000);
afterAll(() => rm(root, { recursive: true, force: true }));

describe(`drift checks on ${REAL ? 'the real CIFAR-100 bicycle/motorcycle rows' : 'fixture rows (the real archive ../shared/data is absent)'}`, () => {
  it('raise no violation for the test rows (the same distribution as the validation split)', async () => {
    expect(archive.test.rows).toBe(200);
    const images = Array.from({ length: archive.test.rows }, (_, row) => rowImage(archive.test.data, row));
    const analysis = await analyze('test-rows', images);
    expect(analysis.metrics.records.analyzed).toBe(200);
    expect(analysis.metrics.images.dimensions).toEqual([{ width: 32, height: 32, count: 200 }]);
    expect(analysis.drift.checks.filter((c) => c.status !== 'not-available').map((c) => [c.metric, c.status])).toEqual([
      ['confidence_psi', 'ok'],
      ['confidence_ks', 'ok'],
      ['predicted_class_chi_square', 'ok'],
      ['brightness_red_ks', 'ok'],
      ['brightness_green_ks', 'ok'],
      ['brightness_blue_ks', 'ok'],
      ['brightness_red_completeness', 'ok'],
      ['brightness_green_completeness', 'ok'],
      ['brightness_blue_completeness', 'ok'],
      ['image_size_completeness', 'ok'],
    ]);
  });

  it('flag the same test rows visibly darkened (pixels x 0.5) on every channel', async () => {
    const images = Array.from({ length: archive.test.rows }, (_, row) => rowImage(archive.test.data, row, 0.5));
    const analysis = await analyze('darkened', images);
    expect(analysis.modelMonitor.violations.violations.map((v) => v.feature_name).sort()).toEqual(['brightness_blue', 'brightness_green', 'brightness_red']);
  });

  it('flag inputs from other classes (synthetic sky/sea-like images: bluish, brighter, less varied)', async () => {
    const random = seededRandom(32);
    const images = Array.from({ length: 200 }, () =>
      encodePng(syntheticImage(random, { r: 0.35 + 0.06 * normalSample(random), g: 0.5 + 0.06 * normalSample(random), b: 0.7 + 0.06 * normalSample(random) })),
    );
    const analysis = await analyze('other-classes', images);
    expect(analysis.modelMonitor.violations.violations.map((v) => v.feature_name)).toEqual(expect.arrayContaining(['brightness_red', 'brightness_blue']));
  });

  it('use the rows as they are: 3072 planar bytes each', () => {
    expect(archive.train.data.length).toBe(archive.train.rows * ROW_BYTES);
  });
});
