import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@scones/local-cloud';
import { startLocalS3 } from '@scones/stack-core/testing';
import { captureFiles, cifarLikeProfile, seededRandom, syntheticBaseline, syntheticManifest, syntheticTraffic } from '@scones/monitor-analytics';

// `scones report` end to end, as a user runs it (tools/scones.js in a child process).
const launcher = join(__dirname, '../../../../tools/scones.js');
const ENDPOINT = 'scones-endpoint';
const HOUR = 3_600_000;
const START = new Date('2026-03-01T00:00:00.000Z');
const iso = (offsetHours: number) => new Date(START.getTime() + offsetHours * HOUR).toISOString();
// Each case starts the CLI (and maybe the embedded S3) in child processes; a busy 2-core machine needs time.
jest.setTimeout(120_000);

function scones(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [launcher, 'report', ...args], { timeout: 60_000, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let root: string;
let captureDir: string;
let modelDir: string;
let manifest: ReturnType<typeof syntheticManifest>;
let files: Map<string, string>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'scones-report-'));
  const random = seededRandom(5);
  const profile = cifarLikeProfile();
  // Six hours, one request every 5 minutes, at fixed times: windows are given as ISO times, so
  // nothing depends on when (or how slowly) the test runs.
  const traffic = syntheticTraffic({ random, count: 72, start: START, intervalMs: 300_000, profile, distinctImages: 20 });
  files = captureFiles(ENDPOINT, traffic, 24);
  captureDir = join(root, 'capture');
  for (const [key, body] of files) {
    await mkdir(dirname(join(captureDir, key)), { recursive: true });
    await writeFile(join(captureDir, key), body);
  }
  manifest = syntheticManifest({ jobName: 'cli-job', baseline: syntheticBaseline(random, 150, profile) });
  modelDir = join(root, 'model');
  await mkdir(modelDir);
  await writeFile(join(modelDir, 'manifest.json'), JSON.stringify(manifest));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('scones report', () => {
  it('reports a capture directory against a model directory and prints the summary and the path', async () => {
    const out = join(root, 'out-1');
    const { code, stdout, stderr } = await scones(['--capture-dir', captureDir, '--model', modelDir, '--out', out, '--since', iso(3), '--until', iso(6)]);
    expect(stderr).not.toContain('error');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^endpoint {6}scones-endpoint · model cli-job · /);
    expect(stdout).toMatch(/requests {6}36\n/); // 3 hours at 12 per hour
    // As a monitoring schedule lays out its executions: <endpoint>/<schedule>/<yyyy>/<mm>/<dd>/<hh>/ of the window's end.
    const written = join(out, ENDPOINT, 'on-demand', '2026', '03', '01', '06', 'report.html');
    expect(stdout).toContain(`report        ${written}`);
    expect((await readdir(dirname(written))).sort()).toEqual(['constraint_violations.json', 'report.html', 'statistics.json', 'summary.json']);
    expect(await readFile(written, 'utf8')).toContain('Model monitoring report');
    expect(stdout).toContain('embeddings    not compared: the model manifest has no embeddings');
  });

  it('prints one JSON document with --json, reading capture and the newest model from the embedded S3', async () => {
    const s3Dir = join(root, 's3');
    const s3 = await startLocalS3({ directory: s3Dir, buckets: ['scones'] });
    const client = createS3Client(s3.target);
    for (const [key, body] of files) await client.send(new PutObjectCommand({ Bucket: 'scones', Key: key, Body: body }));
    await client.send(new PutObjectCommand({ Bucket: 'scones', Key: 'models/cli-job/manifest.json', Body: JSON.stringify(manifest) }));
    await s3.stop();

    const out = join(root, 'out-2');
    const { code, stdout } = await scones(['--s3-dir', s3Dir, '--out', out, '--json', '--since', iso(0), '--until', iso(7)]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ ok: true, command: 'report', opened: false, summary: { endpointName: ENDPOINT, records: { analyzed: 72, malformed: 0 }, model: { jobName: 'cli-job' } } });
    expect(result.summary.captureLocation).toBe(`s3://scones/data_capture/${ENDPOINT}/AllTraffic/`);
    expect(result.report.startsWith(join(out, ENDPOINT))).toBe(true);
  });

  it('does not fail --open on a machine without a browser opener', async () => {
    const { code, stderr } = await scones(['--capture-dir', captureDir, '--model', modelDir, '--out', join(root, 'out-3'), '--open', '--since', iso(0), '--until', iso(7)], { PATH: join(root, 'empty-path') });
    expect(code).toBe(0);
    expect(stderr).toContain('no default browser to open the report with');
  });

  it('refuses a bad endpoint or schedule name before reading anything (exit 2)', async () => {
    // The capture directory does not exist: the name is refused first, so it is never looked at.
    const endpoint = await scones(['--endpoint', '<script>', '--capture-dir', join(root, 'no-capture'), '--model', join(root, 'no-model'), '--out', join(root, 'out-5')]);
    expect(endpoint.code).toBe(2);
    expect(endpoint.stderr).toContain('--endpoint: endpoint name "<script>": expected 1-63 letters, digits and hyphens');
    expect(endpoint.stderr).not.toContain('no-capture');
    const schedule = await scones(['--schedule', 'nightly/../x', '--capture-dir', captureDir, '--model', modelDir]);
    expect(schedule.code).toBe(2);
    expect(schedule.stderr).toContain('--schedule: schedule name "nightly/../x"');
    const sample = await scones(['--embedding-sample', '-3', '--capture-dir', captureDir, '--model', modelDir]);
    expect(sample.code).toBe(2);
    expect(sample.stderr).toContain("option '--embedding-sample <n>' argument '-3' is invalid");
  });

  it('exits 2 naming the option for a bad window or a missing AWS bucket, 1 for a missing model', async () => {
    const bad = await scones(['--capture-dir', captureDir, '--model', modelDir, '--since', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since: expected a duration before now like 30m, 1h or 2d');
    const aws = await scones(['--target', 'aws']);
    expect(aws.code).toBe(2);
    expect(aws.stderr).toContain('--bucket is required with --target aws');
    const missing = await scones(['--capture-dir', captureDir, '--model', join(root, 'nowhere'), '--out', join(root, 'out-4')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/scones report: error: BaselineError: model manifest .*nowhere\/manifest\.json: does not exist/);
  });
});
