import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client, startLocalS3, type LocalS3 } from '@scones/local-cloud';
import { directoryCaptureSource } from '@scones/monitor-analytics';
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
      now: new Date('2026-03-01T12:00:00Z'),
      onProgress: (p) => progress.push(p.filesRead),
    });
    expect(result.summary.records.analyzed).toBe(120); // one hour at one request per 30 s
    expect(result.summary.window).toEqual({ since: '2026-03-01T08:00:00.000Z', until: '2026-03-01T09:00:00.000Z' });
    expect(result.violations).toEqual([]); // the first hours are drawn like the baseline
    expect(result.written.html).toBe(join(root, 'reports', ENDPOINT, '2026-03-01T12-00-00Z', 'report.html'));
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
    expect(result.written.location).toBe(`s3://scones/reports/${ENDPOINT}/2026-03-01T12-00-00Z/`);
    expect(result.violations.length).toBeGreaterThan(0); // the last hour is darker and less confident
    const violations = await client.send(new GetObjectCommand({ Bucket: 'scones', Key: `reports/${ENDPOINT}/2026-03-01T12-00-00Z/violations.json` }));
    expect(JSON.parse((await violations.Body?.transformToString()) ?? '').violations).toEqual(result.violations);
  });
});

describe('generateEndpointReport', () => {
  it('reads capture and the newest model manifest from the bucket and writes the report there', async () => {
    const client = createS3Client(s3.target);
    const capture = join(root, 'capture-3');
    const { manifest } = await writeFixtureCapture(capture);
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
    expect(result.written.html).toBe(`s3://scones/reports/${ENDPOINT}/2026-03-01T13-00-00Z/report.html`);
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
