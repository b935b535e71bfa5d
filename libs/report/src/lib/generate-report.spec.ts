import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { cifarLikeProfile, directoryCaptureSource, seededRandom, syntheticImage } from '@scones/monitor-analytics';
import { writeSyntheticModel } from '../testing';
import { ENDPOINT, writeFixtureCapture } from '../../test/fixtures';
import { generateEndpointReport, generateMonitoringReport } from './generate-report';

let root: string;
let s3: LocalS3;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'generate-report-'));
  s3 = await startLocalS3({ directory: join(root, 's3'), buckets: ['scones'] });
});
afterAll(async () => {
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('generateMonitoringReport', () => {
  it('analyses a window, renders and writes the report, and returns its summary', async () => {
    const capture = join(root, 'capture');
    const { baseline } = await writeFixtureCapture(capture);
    const progress: number[] = [];
    const result = await generateMonitoringReport({
      endpointName: ENDPOINT,
      source: directoryCaptureSource({ directory: capture, endpointName: ENDPOINT }),
      baseline,
      window: { since: new Date('2026-03-01T08:00:00Z'), until: new Date('2026-03-01T09:00:00Z') },
      destination: { kind: 'directory', directory: join(root, 'reports') },
      schedule: 'hourly',
      now: new Date('2026-03-01T12:00:00Z'),
      onProgress: (p) => progress.push(p.filesRead),
    });
    expect(result.summary.records.analyzed).toBe(120); // one hour at one request per 30 s
    expect(result.summary.window).toEqual({ since: '2026-03-01T08:00:00.000Z', until: '2026-03-01T09:00:00.000Z' });
    expect(result.violations).toEqual([]); // the first hours are drawn like the baseline
    // The folder of the hour the window ends in, as a monitoring execution's.
    expect(result.written.html).toBe(join(root, 'reports', ENDPOINT, 'hourly', '2026', '03', '01', '09', 'report.html'));
    expect(await readFile(result.written.html, 'utf8')).toContain('<svg');
    expect(progress.at(-1)).toBeGreaterThan(0);
  });

  it('writes to the bucket', async () => {
    const capture = join(root, 'capture-2');
    const { baseline } = await writeFixtureCapture(capture);
    const client = createS3Client(s3.target);
    const result = await generateMonitoringReport({
      endpointName: ENDPOINT,
      source: directoryCaptureSource({ directory: capture, endpointName: ENDPOINT }),
      baseline,
      destination: { kind: 's3', client, bucket: 'scones' },
      now: new Date('2026-03-01T12:00:00Z'),
    });
    expect(result.written.location).toBe(`s3://scones/reports/${ENDPOINT}/on-demand/2026/03/01/12/`);
    expect(result.violations.length).toBeGreaterThan(0); // the last hour is darker and less confident
    const violations = await client.send(new GetObjectCommand({ Bucket: 'scones', Key: `reports/${ENDPOINT}/on-demand/2026/03/01/12/constraint_violations.json` }));
    expect(JSON.parse((await violations.Body?.transformToString()) ?? '').violations).toEqual(
      result.violations.map((c) => ({ feature_name: c.feature, constraint_check_type: c.checkType, description: `${c.metric}: ${c.description}` })),
    );
  });
});

describe('generateEndpointReport', () => {
  it('reads capture and the newest model manifest from the bucket and writes the report there', async () => {
    const client = createS3Client(s3.target);
    const capture = join(root, 'capture-3');
    const { manifest } = await writeFixtureCapture(capture, { embeddings: false });
    await uploadDirectory(client, capture);
    await client.send(new PutObjectCommand({ Bucket: 'scones', Key: 'models/scones-job-1/manifest.json', Body: JSON.stringify(manifest) }));
    const result = await generateEndpointReport({
      endpointName: ENDPOINT,
      capture: { kind: 's3', client, bucket: 'scones' },
      model: { s3: { client, bucket: 'scones' } },
      window: { since: new Date('2026-03-01T08:00:00Z'), until: new Date('2026-03-01T10:00:00Z') },
      destination: { kind: 's3', client, bucket: 'scones' },
      now: new Date('2026-03-01T13:00:00Z'),
    });
    expect(result.baseline.source).toBe('s3://scones/models/scones-job-1/manifest.json');
    // The file opened at 10:00 (= until) is read and its 60 records are outside; the 10:30 one is skipped.
    expect(result.summary.records).toEqual({ analyzed: 240, outsideWindow: 60, malformed: 2 });
    expect(result.summary.captureLocation).toBe(`s3://scones/data_capture/${ENDPOINT}/AllTraffic/`);
    expect(result.written.html).toBe(`s3://scones/reports/${ENDPOINT}/on-demand/2026/03/01/10/report.html`);
    expect(result.summary.embedding).toEqual({ available: false, reason: 'the model manifest has no embeddings (trained before embedding monitoring); retrain to get them' });
  });

  it('loads the model from the bucket and embeds the sampled inputs when its manifest has embeddings', async () => {
    const client = createS3Client(s3.target);
    const capture = join(root, 'capture-4');
    await writeFixtureCapture(capture, { embeddings: false });
    const random = seededRandom(4);
    const images = (n: number) => Array.from({ length: n }, () => syntheticImage(random, cifarLikeProfile().brightness(random)));
    const manifest = await writeSyntheticModel({ s3: client, bucket: 'scones', prefix: 'models/embedding-job/' }, { jobName: 'embedding-job', validation: images(60), training: images(120) });
    expect(manifest.baseline.embedding?.validation.rows).toBe(60);
    const result = await generateEndpointReport({
      endpointName: ENDPOINT,
      capture: { kind: 'directory', directory: capture },
      model: { s3: { client, bucket: 'scones' }, jobName: 'embedding-job' },
      window: { since: new Date('2026-03-01T08:00:00Z'), until: new Date('2026-03-01T09:00:00Z') },
      destination: { kind: 'directory', directory: join(root, 'reports-4') },
      embeddingSampleSize: 100,
    });
    // 100 of the window's 120 requests, which repeat 40 distinct images (the fixture's pool).
    expect(result.summary.embedding).toMatchObject({ available: true, sampled: 100, sampleLimit: 100 });
    if (!result.summary.embedding.available) throw new Error('embeddings expected');
    expect(result.summary.embedding.distinct).toBeGreaterThanOrEqual(30);
    expect(result.summary.embedding.distinct).toBeLessThanOrEqual(40);
    const check = result.summary.drift.checks.find((c) => c.metric === 'embedding_log_rank')!;
    expect(['ok', 'violation']).toContain(check.status);
    expect(check.pValue).not.toBeNull();
  });

  it('refuses bad names and sample sizes before reading anything', async () => {
    const model = { modelDirectory: join(root, 'does-not-exist') };
    const destination = { kind: 'directory' as const, directory: join(root, 'never') };
    const capture = { kind: 'directory' as const, directory: join(root, 'nowhere') };
    await expect(generateEndpointReport({ endpointName: '<script>', capture, model, destination })).rejects.toThrow('endpoint name "<script>": expected 1-63 letters, digits and hyphens');
    await expect(generateEndpointReport({ endpointName: ENDPOINT, schedule: 'every hour', capture, model, destination })).rejects.toThrow('schedule name "every hour"');
    await expect(generateEndpointReport({ endpointName: ENDPOINT, embeddingSampleSize: -1, capture, model, destination })).rejects.toThrow('embeddingSampleSize: expected a whole number >= 0, got -1');
  });

  it('names the missing model when there is none to compare with', async () => {
    const client = createS3Client(s3.target);
    await expect(
      generateEndpointReport({
        endpointName: ENDPOINT,
        capture: { kind: 'directory', directory: root },
        model: { s3: { client, bucket: 'scones' }, jobName: 'nope' },
        destination: { kind: 'directory', directory: join(root, 'never') },
      }),
    ).rejects.toThrow('model manifest s3://scones/models/nope/manifest.json: does not exist');
  });
});

async function uploadDirectory(client: ReturnType<typeof createS3Client>, directory: string): Promise<void> {
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    await client.send(new PutObjectCommand({ Bucket: 'scones', Key: relative(directory, path), Body: await readFile(path) }));
  }
}
