// The CLI entry (src/main.ts) as a separate process, the way cron or a container runs it.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createS3Client, localSdkEnvironment } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { ENDPOINT, SCHEDULED, seedBucket } from './fixture';

const ROOT = join(__dirname, '../../..');

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'tools/run-ts.js'), join(ROOT, 'apps/report-generator/src/main.ts'), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 150_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('report-generator main', () => {
  let root: string;
  let s3: LocalS3;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'report-main-'));
    s3 = await startLocalS3({ directory: join(root, 's3'), buckets: ['scones'] });
    await seedBucket(createS3Client(s3.target), 'scones');
  });
  afterAll(async () => {
    await s3?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('runs the job once and writes the report to --out', async () => {
    const out = join(root, 'out');
    const result = await run(['--until', SCHEDULED.toISOString(), '--out', out], { ...localSdkEnvironment(s3.target), BUCKET: 'scones', ENDPOINT_NAME: ENDPOINT });
    expect(result.stderr).not.toContain('report-generator:');
    expect(result.code).toBe(0);
    const folder = join(out, ENDPOINT, 'scones-report', '2026', '03', '02', '06');
    expect(JSON.parse(result.stdout)).toMatchObject({ records: 96, report: join(folder, 'report.html') });
    expect((await readdir(folder)).sort()).toEqual(['constraint_violations.json', 'report.html', 'statistics.json', 'summary.json']);
    expect((await readdir(join(out, '_baselines', 'scones-job-7'))).sort()).toEqual(['constraints.json', 'statistics.json']);
  });

  it('exits 2 with one line naming the problem when misconfigured', async () => {
    const result = await run([], { ENDPOINT_NAME: ENDPOINT });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n').at(-1)).toBe('report-generator: ReportJobConfigError: BUCKET is not set: expected the S3 bucket holding data_capture/ and models/');
    expect((await run(['--bogus'], {})).code).toBe(2);
  });
});
