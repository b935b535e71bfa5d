import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { bundledSubsetPath, cifarFixtureArchive } from '@scones/cifar-decoder';
import type { DemoSummary } from '../cli/demo-summary';
import { scones, waitFor, type CliRun } from '../../test/run-cli';
import { down, processesMentioning, processTree, stackClients, stillRunning, upDetached, type ProcessIdentity } from '../../test/stack-kit';

// `npm start` as a new user runs it: `scones demo --quick` in a child process, on a fresh data
// directory, with the download URL pointing at an address that refuses connections — the demo
// stages the real CIFAR-100 bicycle/motorcycle rows shipped in libs/cifar-decoder/data, so it
// needs no network. Every stage is real and runs on the local stack the demo starts for itself:
// staging, a training job, an endpoint with data capture, the batch and single state machines
// with the project's functions, the monitoring report.
jest.setTimeout(900_000);

const root = resolve(__dirname, '../../../..');
/** Nothing listens on port 1: a download attempt fails at once, as on a machine without network. */
const OFFLINE = { SCONES_CIFAR_URL: 'http://127.0.0.1:1/cifar-100-python.tar.gz', SCONES_CIFAR_SOURCE: undefined, SCONES_DATA_DIR: undefined };

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'scones-demo-e2e-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** `scones demo --quick` on `dataDir`, from the repository root as `npm start` runs it. */
function demo(dataDir: string, args: string[]): Promise<CliRun> {
  return scones(['demo', '--quick', '--data-dir', dataDir, '--out', join(dataDir, 'reports'), ...args], { ...OFFLINE, SCONES_CACHE_DIR: join(dataDir, 'cache') }, 840_000);
}

/**
 * What `list` still finds once it finds nothing, or after 30 s: a worker notices on its own that
 * its parent is gone, a moment after the parent exits.
 */
async function leftAfterExit<T>(list: () => Promise<T[]>): Promise<T[]> {
  return waitFor(async () => ((await list()).length === 0 ? [] : undefined), { timeoutMs: 30_000, what: 'the processes to exit' }).catch(() => list());
}

/** The endpoints the stack of `dataDir` holds, read through a stack started on it (then stopped). */
async function endpointsOf(dataDir: string): Promise<string[]> {
  const stack = await upDetached(dataDir);
  const clients = stackClients(stack.env);
  try {
    return ((await clients.sagemaker.send(new ListEndpointsCommand({}))).Endpoints ?? []).map((e) => e.EndpointName as string);
  } finally {
    clients.destroy();
    await down(dataDir);
  }
}

describe('scones demo --quick, end to end', () => {
  it('stages from the bundled subset without network, trains, deploys, runs all 200 test images and a stream, and reports; a second run reuses the data and the model', async () => {
    const dataDir = join(work, 'fresh');
    const first = await demo(dataDir, ['--json']);
    expect({ code: first.code, stderr: first.code === 0 ? '' : first.stderr }).toEqual({ code: 0, stderr: '' });
    expect(first.stderr).toContain(`  data     bundled subset ${bundledSubsetPath()}`);
    for (const n of [1, 2, 3, 4, 5, 6]) expect(first.stderr).toContain(`▶ ${n}/6 `);
    expect(existsSync(join(dataDir, 'cache'))).toBe(false); // nothing was downloaded
    const result = JSON.parse(first.stdout) as { ok: boolean; summary: DemoSummary };
    expect(result.ok).toBe(true);
    const summary = result.summary;

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
    expect(summary.monitoring.recordsAnalyzed).toBe(summary.endpoint!.captureRecords);
    expect(['no drift', 'drift']).toContain(summary.monitoring.verdict);
    expect(summary.failuresByError.THRESHOLD_CONFIDENCE_NOT_MET ?? 0).toBe(batch.thresholdNotMet + stream.thresholdNotMet);
    expect(summary.monitoring.report.startsWith(join(dataDir, 'reports'))).toBe(true);
    const html = await readFile(summary.monitoring.report, 'utf8');
    expect(html).toContain('<html');
    expect(html).toContain(summary.model.jobName);

    // The quick preset on the real images: a model worth serving, and passed predictions more
    // precise than all of them (the threshold doing its job).
    expect(summary.model).toMatchObject({ trained: true, preset: 'quick', testImages: 200 });
    expect(summary.model.testAccuracy).toBeGreaterThan(0.75);
    expect(summary.passedPrecision!.value).toBeGreaterThan(summary.model.testAccuracy!);

    // Nothing left running, and the demo's endpoint is gone (not served again by the next stack).
    expect(await leftAfterExit(() => processesMentioning(dataDir))).toEqual([]);
    expect((await scones(['status', '--data-dir', dataDir, '--json'])).stdout).toContain('"running": false');
    expect(await endpointsOf(dataDir)).not.toContain('scones-demo');

    const second = await demo(dataDir, ['--json', '--stream-duration', '1s']);
    expect({ code: second.code, stderr: second.code === 0 ? '' : second.stderr }).toEqual({ code: 0, stderr: '' });
    expect(second.stderr).toContain('▶ 1/6 stage: data/train and data/test are already in the local S3 (200 test images; --restage to stage again)');
    expect(second.stderr).toContain(`▶ 2/6 train: reusing training job ${summary.model.jobName} (quick; --retrain to train again)`);
    const again = (JSON.parse(second.stdout) as { summary: DemoSummary }).summary;
    expect(again.model).toMatchObject({ jobName: summary.model.jobName, trained: false });
    // Only this run's traffic is reported, though the first run's capture is still in the bucket.
    expect(again.monitoring.recordsAnalyzed).toBe(again.endpoint!.captureRecords);
    expect(again.endpoint!.captureRecords).toBe(again.endpoint!.invocations);
    expect(again.executions.allAccountedFor).toBe(true);
  });

  it('stops everything it started on Ctrl-C, with exit status 130, and leaves no endpoint serving', async () => {
    // Staged data and a trained quick model of its own, so that the demo reaches its stream fast.
    const dataDir = join(work, 'interrupted');
    const archive = join(work, 'small.tar.gz');
    await writeFile(archive, await cifarFixtureArchive({ trainRows: 40, testRows: 10, classes: ['bicycle', 'motorcycle'] }));
    await upDetached(dataDir);
    try {
      expect((await scones(['stage', '--source', archive, '--data-dir', dataDir])).code).toBe(0);
      const trained = await scones(['train', '--quick', '--epochs', '1', '--data-dir', dataDir]);
      expect({ code: trained.code, stderr: trained.code === 0 ? '' : trained.stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      await down(dataDir);
    }

    const child = spawn(process.execPath, [join(root, 'tools/scones.js'), 'demo', '--quick', '--data-dir', dataDir, '--out', join(dataDir, 'reports'), '--stream-duration', '120s'], {
      cwd: root,
      env: { ...process.env, ...OFFLINE },
      detached: true, // its own process group, like a shell job: Ctrl-C goes to the whole group
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    let tree: ProcessIdentity[] = [];
    try {
      await waitFor(() => /started \d+ {2}done/.test(stderr) || (child.exitCode !== null ? Promise.reject(new Error(`demo exited ${child.exitCode}: ${stderr}`)) : undefined), {
        timeoutMs: 600_000,
        what: 'the stream of executions to run',
      });
      expect(stderr).toContain('▶ 2/6 train: reusing training job');
      // The demo, its stack's workers (endpoint, functions) and the `scones load` it runs.
      tree = await processTree(child.pid!);
      expect(tree.length).toBeGreaterThan(2);
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toBe(130);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
    expect(stderr).toContain('scones demo: interrupted; what it started has been stopped');
    expect(await leftAfterExit(() => stillRunning(tree))).toEqual([]);
    expect(await leftAfterExit(() => processesMentioning(dataDir))).toEqual([]);
    expect((await scones(['status', '--data-dir', dataDir, '--json'])).stdout).toContain('"running": false');
    expect(await endpointsOf(dataDir)).not.toContain('scones-demo');
  });

  it('names the failed step and exits 1 when the source archive is missing', async () => {
    const missing = join(work, 'no-such-archive.tar.gz');
    const { code, stderr } = await demo(join(work, 'missing-source'), ['--restage', '--source', missing]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/step "1\/6 stage CIFAR-100 bicycles and motorcycles into the local S3" failed: .*no-such-archive\.tar\.gz/);
    expect(stderr).toContain('scones demo: error: DemoStepError: ');
  });

  it('refuses a bad command line with exit 2 before starting anything', async () => {
    const dataDir = join(work, 'never-started');
    for (const [args, message] of [
      [['--stream-duration', '0s'], '--stream-duration: expected more than 0'],
      [['--endpoint', 'bad_name'], '--endpoint "bad_name": expected 1-63 letters, digits and hyphens'],
      [['--source', 'x.tar.gz', '--download'], "option '--download' cannot be used with option '--source <path>'"],
    ] as const) {
      const run = await demo(dataDir, [...args]);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toContain(message);
      expect(existsSync(dataDir)).toBe(false);
    }
  });
});
