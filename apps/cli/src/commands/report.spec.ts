import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand } from '@aws-sdk/client-sagemaker';
import { createS3Client } from '@scones/local-cloud';
import { startLocalS3 } from '@scones/stack-core/testing';
import { captureFiles, cifarLikeProfile, seededRandom, syntheticBaseline, syntheticManifest, syntheticTraffic } from '@scones/monitor-analytics';
import { scones as sconesCli } from '../../test/run-cli';
import { awsTargetEnv, down, ensureBucket, putObject, stackClients, upDetached, type RunningStack } from '../../test/stack-kit';

// `scones report` end to end, as a user runs it (tools/scones.js in a child process): from
// directories, and from the bucket of the local stack (S3 alone, or the whole stack whose
// SageMaker says which model an endpoint serves), also with --target aws pointed at the stack.
const ENDPOINT = 'scones-endpoint';
const HOUR = 3_600_000;
const START = new Date('2026-03-01T00:00:00.000Z');
const iso = (offsetHours: number) => new Date(START.getTime() + offsetHours * HOUR).toISOString();
// Each case starts the CLI (and maybe a local stack) in child processes; a busy 2-core machine needs time.
jest.setTimeout(180_000);

/** `scones report <args>`. */
const scones = (args: string[], env: Record<string, string | undefined> = {}) => sconesCli(['report', ...args], env, 150_000);

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

  it('prints one JSON document with --json, reading the capture from the bucket of the stack running on --data-dir, the report under <data-dir>/reports', async () => {
    // A stack of S3 alone on the data directory: the command finds it and reads the bucket there.
    const dataDir = join(root, 'stack-s3');
    const s3 = await startLocalS3({ directory: dataDir, buckets: ['scones'] });
    try {
      const client = createS3Client(s3.target);
      for (const [key, body] of files) await client.send(new PutObjectCommand({ Bucket: 'scones', Key: key, Body: body }));
      // No --out: reports go beside the stack's data, not into the working directory.
      const { code, stdout, stderr } = await scones(['--data-dir', dataDir, '--model', modelDir, '--json', '--since', iso(0), '--until', iso(7)]);
      expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
      expect(stderr).not.toContain('started a local stack');
      const result = JSON.parse(stdout);
      expect(result).toMatchObject({ ok: true, command: 'report', opened: false, summary: { endpointName: ENDPOINT, records: { analyzed: 72, malformed: 0 }, model: { jobName: 'cli-job' } } });
      expect(result.summary.captureLocation).toBe(`s3://scones/data_capture/${ENDPOINT}/AllTraffic/`);
      expect(result.report.startsWith(join(dataDir, 'reports', ENDPOINT))).toBe(true);
    } finally {
      await s3.stop();
    }
  });

  describe('on the whole local stack', () => {
    let stack: RunningStack;
    let clients: ReturnType<typeof stackClients>;
    beforeAll(async () => {
      stack = await upDetached(join(root, 'stack'));
      clients = stackClients(stack.env);
      await ensureBucket(clients.s3, 'scones');
      for (const [key, body] of files) await putObject(clients.s3, 'scones', key, body);
      await putObject(clients.s3, 'scones', 'models/cli-job/manifest.json', JSON.stringify(manifest));
    }, 120_000);
    afterAll(async () => {
      clients?.destroy();
      await down(join(root, 'stack'));
    });

    it("compares with the model the endpoint serves (SageMaker's DescribeEndpoint, its config and model)", async () => {
      const role = 'arn:aws:iam::000000000000:role/x';
      await clients.sagemaker.send(new CreateModelCommand({ ModelName: 'cli-job-model', ExecutionRoleArn: role, PrimaryContainer: { Image: '811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1', ModelDataUrl: 's3://scones/models/cli-job/' } }));
      await clients.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'cli-job-config', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'cli-job-model', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }] }));
      await clients.sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'cli-job-config' }));
      const { code, stdout, stderr } = await scones(['--data-dir', stack.dataDir, '--out', join(root, 'out-6'), '--json', '--since', iso(0), '--until', iso(7)]);
      expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(stdout).summary).toMatchObject({ records: { analyzed: 72 }, model: { jobName: 'cli-job', manifest: 's3://scones/models/cli-job/manifest.json' } });
    });

    it('--target aws, pointed at the stack by the environment of `scones env`: the capture and models/<job>/manifest.json of the bucket', async () => {
      const { code, stdout, stderr } = await scones(['--target', 'aws', '--bucket', 'scones', '--job', 'cli-job', '--out', join(root, 'out-7'), '--json', '--since', iso(0), '--until', iso(7)], awsTargetEnv(stack));
      expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(stdout).summary).toMatchObject({ captureLocation: `s3://scones/data_capture/${ENDPOINT}/AllTraffic/`, records: { analyzed: 72 }, model: { jobName: 'cli-job' } });
    });

    it('names a training job the stack does not have (exit 2)', async () => {
      const { code, stderr } = await scones(['--data-dir', stack.dataDir, '--job', 'no-such-job', '--out', join(root, 'out-8')]);
      expect(code).toBe(2);
      expect(stderr).toContain('--job no-such-job: no such training job on the local stack');
    });
  });

  it('says there is no model to compare with on a fresh stack (exit 2)', async () => {
    const dataDir = join(root, 'fresh');
    const { code, stderr } = await scones(['--data-dir', dataDir, '--endpoint', 'nobody', '--out', join(root, 'out-9')]);
    expect(code).toBe(2);
    expect(stderr).toContain('no model to compare with: endpoint nobody is not deployed and no training job has completed on the local stack (name one with --job or --model)');
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
