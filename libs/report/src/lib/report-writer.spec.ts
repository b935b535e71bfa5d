import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3Client, startLocalS3, type LocalS3 } from '@scones/local-cloud';
import type { MonitoringReport } from './build-report';
import { reportTimestamp, writeMonitoringReport } from './report-writer';
import { ReportWriteError } from '../errors';

const report = {
  html: '<!DOCTYPE html><title>r</title>',
  summary: { version: 1, endpointName: 'ep' },
  violations: { version: 1, violations: [] },
  constraints: { version: 1, constraints: [] },
} as unknown as MonitoringReport;
const AT = new Date('2026-03-01T12:34:56.789Z');

let root: string;
let s3: LocalS3;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'report-writer-'));
  s3 = await startLocalS3({ directory: join(root, 's3'), buckets: ['scones'] });
});
afterAll(async () => {
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('writeMonitoringReport', () => {
  it('names report folders by a sortable, file-system-safe UTC timestamp', () => {
    expect(reportTimestamp(AT)).toBe('2026-03-01T12-34-56Z');
  });

  it('writes the four files into <dir>/<endpoint>/<timestamp>/ and leaves no temporary folder', async () => {
    const written = await writeMonitoringReport(report, { kind: 'directory', directory: join(root, 'out') }, 'ep', AT);
    const folder = join(root, 'out', 'ep', '2026-03-01T12-34-56Z');
    expect(written).toMatchObject({ location: folder, html: join(folder, 'report.html') });
    expect((await readdir(folder)).sort()).toEqual(['constraints.json', 'report.html', 'summary.json', 'violations.json']);
    expect(await readdir(join(root, 'out', 'ep'))).toEqual(['2026-03-01T12-34-56Z']);
    expect(JSON.parse(await readFile(written.files.summary, 'utf8'))).toEqual(report.summary);
    await expect(writeMonitoringReport(report, { kind: 'directory', directory: join(root, 'out') }, 'ep', AT)).rejects.toThrow(`report folder ${folder} already exists`);
  });

  it('fails with a clear error and cleans up when the directory cannot be written', async () => {
    await mkdir(join(root, 'blocked'), { recursive: true });
    await writeFile(join(root, 'blocked', 'ep'), 'a file where the endpoint folder should be');
    await expect(writeMonitoringReport(report, { kind: 'directory', directory: join(root, 'blocked') }, 'ep', AT)).rejects.toThrow(ReportWriteError);
  });

  it('refuses endpoint names that could escape the report folder', async () => {
    await expect(writeMonitoringReport(report, { kind: 'directory', directory: root }, '../etc', AT)).rejects.toThrow(
      'endpoint name "../etc": expected 1-63 letters, digits and hyphens',
    );
  });

  it('uploads to reports/<endpoint>/<timestamp>/ with content types, report.html last', async () => {
    const client = createS3Client(s3.target);
    const written = await writeMonitoringReport(report, { kind: 's3', client, bucket: 'scones' }, 'ep', AT);
    expect(written.html).toBe('s3://scones/reports/ep/2026-03-01T12-34-56Z/report.html');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'scones', Prefix: 'reports/ep/' }));
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual([
      'reports/ep/2026-03-01T12-34-56Z/constraints.json',
      'reports/ep/2026-03-01T12-34-56Z/report.html',
      'reports/ep/2026-03-01T12-34-56Z/summary.json',
      'reports/ep/2026-03-01T12-34-56Z/violations.json',
    ]);
    const html = await client.send(new GetObjectCommand({ Bucket: 'scones', Key: 'reports/ep/2026-03-01T12-34-56Z/report.html' }));
    expect(html.ContentType).toBe('text/html; charset=utf-8');
    expect(await html.Body?.transformToString()).toBe(report.html);
    await expect(writeMonitoringReport(report, { kind: 's3', client, bucket: 'missing' }, 'ep', AT)).rejects.toThrow(
      'cannot upload s3://missing/reports/ep/2026-03-01T12-34-56Z/summary.json: NoSuchBucket',
    );
  });
});
