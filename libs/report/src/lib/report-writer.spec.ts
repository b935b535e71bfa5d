import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3Client } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import type { MonitoringReport } from './build-report';
import { reportHourPath, reportPaths, writeMonitoringReport } from './report-writer';
import { ReportWriteError } from '../errors';

const report = (marker: string) =>
  ({
    html: `<!DOCTYPE html><title>${marker}</title>`,
    summary: { version: 2, endpointName: 'ep', marker },
    statistics: { version: 0, dataset: { item_count: 1 }, features: [] },
    violations: { violations: [] },
    baselineStatistics: { version: 0, dataset: { item_count: 2 }, features: [] },
    baselineConstraints: { version: 0, features: [], monitoring_config: {} },
  }) as unknown as MonitoringReport;
const AT = new Date('2026-03-01T12:34:56.789Z');
const OPTIONS = { endpointName: 'ep', schedule: 'hourly', hourOf: AT, jobName: 'job-1' };

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
  it('lays reports out as a monitoring schedule does: <endpoint>/<schedule>/<yyyy>/<mm>/<dd>/<hh>/, baselines apart', () => {
    expect(reportHourPath(AT)).toBe('2026/03/01/12');
    expect(reportPaths('ep', 'hourly', AT, 'job-1')).toEqual({ report: 'ep/hourly/2026/03/01/12', baseline: '_baselines/job-1' });
  });

  it('writes the report folder and the baseline files, and replaces the same hour\'s report', async () => {
    const out = join(root, 'out');
    const written = await writeMonitoringReport(report('first'), { kind: 'directory', directory: out }, OPTIONS);
    const folder = join(out, 'ep', 'hourly', '2026', '03', '01', '12');
    expect(written).toMatchObject({ location: folder, html: join(folder, 'report.html'), replaced: false });
    expect((await readdir(folder)).sort()).toEqual(['constraint_violations.json', 'report.html', 'statistics.json', 'summary.json']);
    expect((await readdir(join(out, '_baselines', 'job-1'))).sort()).toEqual(['constraints.json', 'statistics.json']);
    expect(written.baseline.statistics).toBe(join(out, '_baselines', 'job-1', 'statistics.json'));
    expect(JSON.parse(await readFile(written.files.statistics, 'utf8'))).toEqual(report('first').statistics);
    const again = await writeMonitoringReport(report('second'), { kind: 'directory', directory: out }, OPTIONS);
    expect(again.replaced).toBe(true);
    expect(JSON.parse(await readFile(again.files.summary, 'utf8')).marker).toBe('second');
    // Nothing left behind: no temporary or old folder next to the hour.
    expect(await readdir(join(out, 'ep', 'hourly', '2026', '03', '01'))).toEqual(['12']);
  });

  it('fails with a clear error and leaves no temporary folder when the directory cannot be written', async () => {
    await mkdir(join(root, 'blocked', 'ep', 'hourly', '2026', '03'), { recursive: true });
    await writeFile(join(root, 'blocked', 'ep', 'hourly', '2026', '03', '01'), 'a file where the day folder should be');
    await expect(writeMonitoringReport(report('x'), { kind: 'directory', directory: join(root, 'blocked') }, OPTIONS)).rejects.toThrow(ReportWriteError);
    expect(await readdir(join(root, 'blocked', 'ep', 'hourly', '2026', '03'))).toEqual(['01']);
  });

  it('refuses endpoint, schedule and model names that could escape the report folder', async () => {
    const destination = { kind: 'directory' as const, directory: root };
    await expect(writeMonitoringReport(report('x'), destination, { ...OPTIONS, endpointName: '../etc' })).rejects.toThrow('endpoint name "../etc": expected 1-63 letters, digits and hyphens');
    await expect(writeMonitoringReport(report('x'), destination, { ...OPTIONS, schedule: 'a/b' })).rejects.toThrow('schedule name "a/b"');
    await expect(writeMonitoringReport(report('x'), destination, { ...OPTIONS, jobName: '..' })).rejects.toThrow('model (training job) name ".."');
  });

  it('uploads to <prefix><endpoint>/<schedule>/<yyyy>/<mm>/<dd>/<hh>/ with content types, report.html last', async () => {
    const client = createS3Client(s3.target);
    const written = await writeMonitoringReport(report('s3'), { kind: 's3', client, bucket: 'scones' }, OPTIONS);
    expect(written.html).toBe('s3://scones/reports/ep/hourly/2026/03/01/12/report.html');
    expect(written.baseline.constraints).toBe('s3://scones/reports/_baselines/job-1/constraints.json');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'scones', Prefix: 'reports/' }));
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual([
      'reports/_baselines/job-1/constraints.json',
      'reports/_baselines/job-1/statistics.json',
      'reports/ep/hourly/2026/03/01/12/constraint_violations.json',
      'reports/ep/hourly/2026/03/01/12/report.html',
      'reports/ep/hourly/2026/03/01/12/statistics.json',
      'reports/ep/hourly/2026/03/01/12/summary.json',
    ]);
    const html = await client.send(new GetObjectCommand({ Bucket: 'scones', Key: 'reports/ep/hourly/2026/03/01/12/report.html' }));
    expect(html.ContentType).toBe('text/html; charset=utf-8');
    expect(await html.Body?.transformToString()).toBe(report('s3').html);
    await expect(writeMonitoringReport(report('x'), { kind: 's3', client, bucket: 'missing' }, OPTIONS)).rejects.toThrow(
      'cannot upload s3://missing/reports/_baselines/job-1/statistics.json: NoSuchBucket',
    );
  });
});
