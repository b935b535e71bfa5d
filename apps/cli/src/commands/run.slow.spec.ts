import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng, type RgbImage } from '@scones/image-classifier';
import { createS3Client, putObjects } from '@scones/local-cloud';
import { startLocalS3 } from '@scones/stack-core/testing';
import { createModelServer, type ModelServer } from '@scones/model-server';
import { formatLst } from '@scones/payload-schemas';

// `scones run` and `scones load` end to end on the local target, as a user runs them: the CLI in a
// child process with the real Lambda bundles (dist/apps, rebuilt by the CLI when stale), its
// embedded S3 over the staged images, and a real endpoint (model server) in this process.
jest.setTimeout(180_000);

const launcher = join(__dirname, '../../../../tools/scones.js');
const ENDPOINT = 'e2e-endpoint';

function scones(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [launcher, ...args], { timeout: 150_000, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A 32x32 image whose first red value decides what the endpoint answers. */
function image(firstRed: number): Buffer {
  const data = new Uint8Array(32 * 32 * 3).fill(90);
  data[0] = firstRed;
  return encodePng({ width: 32, height: 32, data });
}

describe('scones run / load on the local target', () => {
  let s3Dir: string;
  let endpoint: ModelServer;
  let env: Record<string, string>;
  const images = [
    { key: 'data/test/bicycle_s_000001.png', label: 0, png: image(10) }, // confident bicycle: passes, correct
    { key: 'data/test/motorcycle_s_000002.png', label: 1, png: image(20) }, // confident bicycle: passes, wrong
    { key: 'data/test/bicycle_s_000003.png', label: 0, png: image(200) }, // unsure: THRESHOLD_CONFIDENCE_NOT_MET
  ];

  beforeAll(async () => {
    s3Dir = await mkdtemp(join(tmpdir(), 'scones-run-e2e-'));
    const s3 = await startLocalS3({ directory: s3Dir, buckets: ['scones'] });
    const lst = formatLst(images.map((i, row) => ({ row, label: i.label, path: i.key.slice('data/test/'.length) })));
    await putObjects(createS3Client(s3.target), 'scones', [...images.map((i) => ({ key: i.key, body: i.png })), { key: 'data/test.lst', body: lst }]);
    await s3.stop();
    endpoint = createModelServer({
      endpointName: ENDPOINT,
      predictor: { classNames: ['bicycle', 'motorcycle'], predictImages: async (batch: RgbImage[]) => batch.map((i) => (i.data[0] < 128 ? [0.95, 0.05] : [0.6, 0.4])) },
    });
    const url = await endpoint.listen();
    env = { SCONES_S3_DIR: s3Dir, SCONES_ENDPOINT: ENDPOINT, SCONES_ENDPOINTS_DIR: join(s3Dir, 'no-registry') };
    env.ENDPOINT_URL = url;
  });
  afterAll(async () => {
    await endpoint?.close();
    if (s3Dir) await rm(s3Dir, { recursive: true, force: true });
  });

  const local = () => ['--endpoint-url', env.ENDPOINT_URL, '--threshold', '0.8'];

  it('runs the given keys: passes, rejects the unsure image with a notification, fails a missing key (exit 1)', async () => {
    const { code, stdout, stderr } = await scones(['run', ...local(), ...images.map((i) => i.key), 'data/test/missing.png', '--history', '--json'], env);
    expect(code).toBe(1);
    const result = JSON.parse(stdout);
    expect(result.executions.map((e: { s3_key: string; status: string; error?: string }) => [e.s3_key, e.status, e.error ?? null])).toEqual([
      [images[0].key, 'SUCCEEDED', null],
      [images[1].key, 'SUCCEEDED', null],
      [images[2].key, 'FAILED', 'THRESHOLD_CONFIDENCE_NOT_MET'],
      ['data/test/missing.png', 'FAILED', 'ImageNotFound'],
    ]);
    expect(result.executions[0].inferences).toEqual([0.95, 0.05]);
    expect(result.executions[2].notifications).toHaveLength(1);
    expect(result.executions[0].history.map((e: { type: string; stateName?: string }) => `${e.type} ${e.stateName ?? ''}`.trim())).toContain('StateExited Filter');
    expect(result.summary).toMatchObject({ images: 4, succeeded: 2, thresholdNotMet: 1, failedOtherwise: 1, accuracy: { evaluated: 2, correct: 1, accuracy: 0.5 } });
    expect(stderr).toContain(`LOW   ${images[2].key}  THRESHOLD_CONFIDENCE_NOT_MET  class 0 p=0.600 < 0.8`);
    expect(stderr).toContain('FAIL  data/test/missing.png  ImageNotFound: ');
  });

  it('classifies every image under a prefix with the batch state machine (exit 0)', async () => {
    const { code, stdout } = await scones(['run', ...local(), '--all', 'data/test/', '--max-concurrency', '2'], env);
    expect(code).toBe(0);
    expect(stdout).toContain('batch execution SUCCEEDED');
    expect(stdout).toContain('3 images: 2 passed, 1 THRESHOLD_CONFIDENCE_NOT_MET, 0 failed otherwise');
    expect(stdout).toContain('accuracy of passed predictions: 1/2 = 50.0 %');
  });

  it('generates load for a bounded time and reports throughput and latency', async () => {
    const { code, stdout, stderr } = await scones(['load', ...local(), '--rate', '20', '--duration', '1s', '--concurrency', '4', '--json'], env);
    expect(code).toBe(0);
    const { report } = JSON.parse(stdout);
    // How many start in 1 s depends on the machine (at most 4 in flight); the exact schedule is
    // covered with a virtual clock in libs/workflow's load-generator.spec.ts. Here: the rate is an
    // upper bound, and every started execution is accounted for.
    expect(report).toMatchObject({ failedOtherwise: 0, interrupted: false });
    expect(report.started).toBeGreaterThanOrEqual(1);
    expect(report.started).toBeLessThanOrEqual(20);
    expect(report.completed).toBe(report.started);
    expect(report.succeeded + report.thresholdNotMet).toBe(report.completed);
    expect(report.latencyMs.p50).toBeGreaterThan(0);
    expect(stderr).toContain('scones load: 20/s for 1.00 s, at most 4 in flight, over 3 images');
  });

  it('says how to start an endpoint when none is registered under the name', async () => {
    const { code, stderr } = await scones(['run', 'data/test/x.png'], env);
    expect(code).toBe(2);
    expect(stderr).toContain(`no local endpoint named "${ENDPOINT}" is running (start one with \`scones deploy --name ${ENDPOINT} --detach\``);
  });
});
