import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeCifarFixtureArchive } from '@scones/cifar-decoder';
import { processIsAlive } from '@scones/local-cloud';
import type { DemoSummary } from '../cli/demo-summary';

// `npm start` as a new user runs it: `scones demo --quick` in a child process, over the real
// CIFAR-100 bicycle/motorcycle rows when ../shared/data has them, else a generated archive of the
// same layout and size. Every stage is real: embedded S3, training, a detached endpoint with data
// capture, the batch and single state machines with the Lambda bundles, and the report.
jest.setTimeout(600_000);

const root = resolve(__dirname, '../../../..');
const launcher = join(root, 'tools/scones.js');
const SHARED_ARCHIVE = resolve(root, '../shared/data/cifar-100-python-bicycle-motorcycle.tar.gz');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('scones demo --quick, end to end', () => {
  let work: string;
  let source: string;
  let env: NodeJS.ProcessEnv;
  // SCONES_DEMO_E2E_FIXTURE=1 forces the generated archive (what a fresh clone without ../shared sees).
  const realData = existsSync(SHARED_ARCHIVE) && !process.env.SCONES_DEMO_E2E_FIXTURE;

  const demo = (args: string[]): Promise<Run> =>
    new Promise((done) => {
      const base = ['demo', '--quick', '--source', source, '--s3-dir', join(work, 's3'), '--out', join(work, 'reports')];
      execFile(process.execPath, [launcher, ...base, ...args], { cwd: root, env, timeout: 540_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'scones-demo-e2e-'));
    env = { ...process.env, SCONES_ENDPOINTS_DIR: join(work, 'endpoints'), SCONES_CACHE_DIR: join(work, 'cache') };
    if (realData) source = SHARED_ARCHIVE;
    else {
      console.warn(`${SHARED_ARCHIVE} not found: the demo runs on a generated archive of the same layout`);
      source = join(work, 'cifar-fixture.tar.gz');
      await writeCifarFixtureArchive(source, { trainRows: 1000, testRows: 200, classes: ['bicycle', 'motorcycle'] });
    }
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  let first: DemoSummary;

  it('stages, trains, deploys, runs all 200 test images and a stream, and reports', async () => {
    const { code, stdout, stderr } = await demo(['--json']);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    for (const n of [1, 2, 3, 4, 5, 6]) expect(stderr).toContain(`▶ ${n}/6 `);
    const result = JSON.parse(stdout) as { ok: boolean; summary: DemoSummary };
    expect(result.ok).toBe(true);
    const summary = (first = result.summary);

    // Every staged test image has exactly one outcome in the batch execution.
    const { batch, stream } = summary.executions;
    expect(summary.executions.expectedImages).toBe(200);
    expect(batch.images).toBe(200);
    expect(batch.passed + batch.thresholdNotMet + batch.failedOtherwise).toBe(200);
    expect(summary.executions.allAccountedFor).toBe(true);
    expect(batch.failedOtherwise + stream.failedOtherwise).toBe(0);
    expect(stream.executions).toBeGreaterThan(0);
    expect(stream.latencyMs?.p50).toBeGreaterThan(0);

    // Each execution invoked the endpoint once, and each invocation left one capture record,
    // which the report read back.
    expect(summary.endpoint).not.toBeNull();
    expect(summary.endpoint!.invocations).toBe(batch.images + stream.executions);
    expect(summary.endpoint!.errors).toBe(0);
    expect(summary.endpoint!.captureRecords).toBe(summary.endpoint!.invocations);
    expect(summary.endpoint!.capturePending).toBe(0);
    expect(summary.monitoring.recordsAnalyzed).toBe(summary.endpoint!.captureRecords);
    expect(['no drift', 'drift']).toContain(summary.monitoring.verdict);
    expect(summary.failuresByError.THRESHOLD_CONFIDENCE_NOT_MET ?? 0).toBe(batch.thresholdNotMet + stream.thresholdNotMet);

    const html = await readFile(summary.monitoring.report, 'utf8');
    expect(html).toContain('<html');
    expect(html).toContain(summary.model.jobName);

    expect(summary.model).toMatchObject({ trained: true, preset: 'quick', testImages: 200 });
    if (realData) {
      // The quick preset on the real images: a model worth serving, and passed predictions
      // more precise than all of them (the threshold doing its job).
      expect(summary.model.testAccuracy).toBeGreaterThan(0.75);
      expect(summary.passedPrecision!.value).toBeGreaterThan(summary.model.testAccuracy!);
    }
    // Nothing left running: the endpoint is stopped and unregistered.
    expect((await readdir(join(work, 'endpoints'))).filter((f) => f.endsWith('.json'))).toEqual([]);
  });

  it('reuses the staged data and the trained model on a second run', async () => {
    const { code, stdout, stderr } = await demo(['--json', '--stream-duration', '1s']);
    expect(code).toBe(0);
    expect(stderr).toMatch(/1\/6 stage: data\/train and data\/test are already in the embedded S3/);
    expect(stderr).toMatch(/2\/6 train: reusing models\//);
    const { summary } = JSON.parse(stdout) as { summary: DemoSummary };
    expect(summary.model).toMatchObject({ jobName: first.model.jobName, trained: false });
    // Only this run's traffic is reported, though the first run's capture is still in the bucket.
    expect(summary.monitoring.recordsAnalyzed).toBe(summary.endpoint!.captureRecords);
    expect(summary.executions.allAccountedFor).toBe(true);
  });

  it('stops everything it started on Ctrl-C, with exit status 130', async () => {
    const child = spawn(process.execPath, [launcher, 'demo', '--quick', '--source', source, '--s3-dir', join(work, 's3'), '--out', join(work, 'reports'), '--stream-duration', '60s'], {
      cwd: root,
      env,
      detached: true, // its own process group, like a shell job: Ctrl-C goes to the whole group
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    await new Promise<void>((started) =>
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (/started \d+ {2}done/.test(stderr)) started(); // the stream is running
      }),
    );
    const registered = JSON.parse(await readFile(join(work, 'endpoints', 'scones-demo.json'), 'utf8')) as { pid: number };
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('scones demo: interrupted; what it started has been stopped');
    expect(processIsAlive(registered.pid)).toBe(false);
    expect((await readdir(join(work, 'endpoints'))).filter((f) => f.endsWith('.json'))).toEqual([]);
  });

  it('names the failed step and exits 1 when the source archive is missing', async () => {
    const missing = join(work, 'no-such-archive.tar.gz');
    const { code, stderr } = await new Promise<Run>((done) =>
      execFile(process.execPath, [launcher, 'demo', '--quick', '--restage', '--source', missing, '--s3-dir', join(work, 's3-empty')], { cwd: root, env }, (error, stdout, err) =>
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr: err }),
      ),
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/step "1\/6 stage CIFAR-100 bicycles and motorcycles into the embedded S3" failed: .*no-such-archive\.tar\.gz/);
  });
});
