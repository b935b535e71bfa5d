import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { cifarFixtureArchive } from '@scones/cifar-decoder';
import { writeFixtureArtifact } from '@scones/image-classifier/testing';
import { scones } from '../../test/run-cli';
import { COURSE_FUNCTIONS, writeCourseWorkflow } from '../../test/course-workflow';
import { awsTargetEnv, down, getText, listKeys, stackClients, upDetached, type RunningStack } from '../../test/stack-kit';

// `scones run` and `scones load` end to end on the local stack, as a user runs them: the CLI in
// child processes; the project's three functions created on the stack from their bundles
// (dist/apps, rebuilt by the CLI when stale) and its state machines run through Step Functions,
// against a real (untrained) model deployed with `scones deploy`; then a learner's own workflow —
// three Python functions in the style of the course and the definition the console exports —
// deployed with `scones functions deploy` and run with `scones run --definition`.
//
// What each image does is known before any run: the test asks the endpoint itself, and picks a
// threshold in the middle of the widest gap between the images' top probabilities, so no image
// sits near it.
jest.setTimeout(300_000);

const ENDPOINT = 'e2e-endpoint';
const machineArn = (name: string) => `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`;

interface TestImage {
  key: string;
  label: number;
  probabilities: number[];
  top: number;
  max: number;
}

let root: string;
let stack: RunningStack;
let clients: ReturnType<typeof stackClients>;
let images: TestImage[];
let threshold: number;
const passes = (image: TestImage) => image.max >= threshold;

/** A threshold in the middle of the widest gap between the values (both sides non-empty). */
function splitThreshold(values: number[]): number {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  let best = { gap: 0, at: 0 };
  for (let i = 1; i < sorted.length; i++) if (sorted[i] - sorted[i - 1] > best.gap) best = { gap: sorted[i] - sorted[i - 1], at: (sorted[i] + sorted[i - 1]) / 2 };
  if (best.gap < 1e-3) throw new Error(`the fixture model's top probabilities are too close to split: ${sorted.join(', ')}`);
  return Math.round(best.at * 1e6) / 1e6;
}

/** Messages published to the workflow's failure topic so far (`/_scones/status`). */
async function failureNotifications(): Promise<number> {
  const status = (await (await fetch(new URL('/_scones/status', stack.url))).json()) as { services: { sns?: { topics: Array<{ topicArn: string; messages: number }> } } };
  return status.services.sns?.topics.find((t) => t.topicArn.endsWith(':SconesStack-workflow-failures'))?.messages ?? 0;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'scones-run-e2e-'));
  stack = await upDetached(join(root, 'stack'));
  clients = stackClients(stack.env);
  const archive = join(root, 'fixture.tar.gz');
  await writeFile(archive, await cifarFixtureArchive({ trainRows: 8, testRows: 12, classes: ['bicycle', 'motorcycle'] }));
  const staged = await scones(['stage', '--source', archive, '--data-dir', stack.dataDir]);
  if (staged.code !== 0) throw new Error(`scones stage: ${staged.stderr}`);
  const modelDir = join(root, 'model');
  await writeFixtureArtifact(modelDir, { jobName: 'e2e-fixture' });
  const deployed = await scones(['deploy', '--model', modelDir, '--name', ENDPOINT, '--data-dir', stack.dataDir]);
  if (deployed.code !== 0) throw new Error(`scones deploy: ${deployed.stderr}`);

  // What the endpoint says about each test image, asked directly.
  const labels = new Map(
    (await getText(clients.s3, 'scones', 'data/test.lst'))
      .trim()
      .split('\n')
      .map((line) => line.split('\t'))
      .map(([, label, path]) => [`data/test/${path}`, Number(label)]),
  );
  images = [];
  for (const key of (await listKeys(clients.s3, 'scones', 'data/test/')).filter((k) => k.endsWith('.png'))) {
    const body = await (await clients.s3.send(new GetObjectCommand({ Bucket: 'scones', Key: key }))).Body!.transformToByteArray();
    const answer = await clients.runtime.send(new InvokeEndpointCommand({ EndpointName: ENDPOINT, ContentType: 'image/png', Body: body }));
    const probabilities = JSON.parse(Buffer.from(answer.Body!).toString('utf8')) as number[];
    const max = Math.max(...probabilities);
    images.push({ key, label: labels.get(key)!, probabilities, max, top: probabilities.indexOf(max) });
  }
  expect(images).toHaveLength(12);
  threshold = splitThreshold(images.map((i) => i.max));
}, 240_000);
afterAll(async () => {
  clients?.destroy();
  await down(join(root, 'stack'));
  await rm(root, { recursive: true, force: true });
});

/** The expected outcome of an image: [key, status, error]. */
const expected = (image: TestImage) => [image.key, passes(image) ? 'SUCCEEDED' : 'FAILED', passes(image) ? null : 'THRESHOLD_CONFIDENCE_NOT_MET'];
const byKey = (key: string) => images.find((i) => i.key === key)!;

describe("the project's workflow on the local stack", () => {
  it('runs the given keys: passes and rejects each image as its inferences say, fails a missing key (exit 1), with the history and the failure notifications', async () => {
    const sorted = [...images].sort((a, b) => a.max - b.max);
    const chosen = [sorted.at(-1)!, sorted[0], sorted.at(-2)!, sorted[1]];
    const notifiedBefore = await failureNotifications();
    const { code, stdout, stderr } = await scones(['run', ...chosen.map((i) => i.key), 'data/test/missing.png', '--endpoint', ENDPOINT, '--threshold', String(threshold), '--history', '--data-dir', stack.dataDir, '--json']);
    expect({ code, stderr: code === 1 ? '' : stderr }).toEqual({ code: 1, stderr: '' });
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ target: 'local', endpoint: ENDPOINT, threshold, stateMachineArn: machineArn('SconesStack-classify') });
    expect(result.executions.map((e: { s3_key: string; status: string; error?: string }) => [e.s3_key, e.status, e.error ?? null])).toEqual([
      ...chosen.map(expected),
      ['data/test/missing.png', 'FAILED', 'ImageNotFound'],
    ]);
    // The inferences of a passed image are the endpoint's.
    const passed = result.executions[0];
    passed.inferences.forEach((p: number, c: number) => expect(p).toBeCloseTo(chosen[0].probabilities[c], 6));
    const states = passed.history.filter((e: { type: string }) => e.type === 'TaskStateEntered').map((e: { stateName: string }) => e.stateName);
    expect(states).toEqual(['Serialize', 'Classify', 'Filter']);
    const rejected = result.executions[1];
    expect(rejected.history.map((e: { type: string; stateName?: string }) => `${e.type} ${e.stateName ?? ''}`.trim())).toEqual(expect.arrayContaining(['TaskStateEntered Notify failure', 'ExecutionFailed']));

    const low = chosen.filter((i) => !passes(i));
    const high = chosen.filter(passes);
    expect(result.summary).toMatchObject({
      images: 5,
      succeeded: high.length,
      thresholdNotMet: low.length,
      failedOtherwise: 1,
      failuresByError: { THRESHOLD_CONFIDENCE_NOT_MET: low.length, ImageNotFound: 1 },
      accuracy: { source: 's3://scones/data/test.lst', evaluated: high.length, correct: high.filter((i) => i.top === i.label).length },
    });
    const className = (c: number) => ['bicycle', 'motorcycle'][c];
    expect(stderr).toContain(`LOW   ${low[0].key}  THRESHOLD_CONFIDENCE_NOT_MET  ${className(low[0].top)} p=${low[0].max.toFixed(3)} < ${threshold}`);
    expect(stderr).toContain('FAIL  data/test/missing.png  ImageNotFound: ');
    // Every failed execution published its notification to the failure topic.
    expect((await failureNotifications()) - notifiedBefore).toBe(low.length + 1);
  });

  it("--random takes the threshold from the deployed model's manifest", async () => {
    const { code, stdout, stderr } = await scones(['run', '--random', '4', '--endpoint', ENDPOINT, '--history', '--data-dir', stack.dataDir, '--json']);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(stderr).toMatch(new RegExp(`scones: THRESHOLD 0\\.8 \\(threshold\\.value of the model endpoint ${ENDPOINT} serves, s3://scones/models/${ENDPOINT}-\\d{14}/\\)`));
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ mode: 'random', threshold: 0.8, summary: { images: 4, failedOtherwise: 0 } });
    for (const execution of result.executions) {
      const image = byKey(execution.s3_key);
      expect(image).toBeDefined();
      // Decided by the manifest's threshold (0.8), unless the image sits right on it.
      if (Math.abs(image.max - 0.8) > 1e-4) expect([execution.s3_key, execution.status]).toEqual([image.key, image.max >= 0.8 ? 'SUCCEEDED' : 'FAILED']);
    }
  });

  it('--all classifies every test image in one batch (Map) execution', async () => {
    const { code, stdout, stderr } = await scones(['run', '--all', 'data/test/', '--endpoint', ENDPOINT, '--threshold', String(threshold), '--max-concurrency', '2', '--data-dir', stack.dataDir, '--json']);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ mode: 'all', batchStateMachineArn: machineArn('SconesStack-classify-batch'), batch: { status: 'SUCCEEDED' } });
    const outcomes = result.batch.images.map((i: { s3_key: string; status: string; error?: string }) => [i.s3_key, i.status, i.error ?? null]);
    expect(outcomes.sort()).toEqual(images.map(expected).sort());
    const high = images.filter(passes);
    expect(result.summary).toMatchObject({
      images: 12,
      succeeded: high.length,
      thresholdNotMet: 12 - high.length,
      failedOtherwise: 0,
      accuracy: { evaluated: high.length, correct: high.filter((i) => i.top === i.label).length },
    });
  });

  it('load: starts executions at the rate for the duration and accounts for every one', async () => {
    const { code, stdout, stderr } = await scones(['load', '--endpoint', ENDPOINT, '--threshold', String(threshold), '--rate', '10', '--duration', '1s', '--concurrency', '4', '--data-dir', stack.dataDir, '--json']);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const { report } = JSON.parse(stdout);
    // How many start in 1 s depends on the machine (the exact schedule is covered with a virtual
    // clock in libs/workflow's load-generator.spec.ts): the rate bounds it, and every started
    // execution is accounted for.
    expect(report).toMatchObject({ failedOtherwise: 0, interrupted: false });
    expect(report.started).toBeGreaterThanOrEqual(1);
    expect(report.started).toBeLessThanOrEqual(10);
    expect(report.completed).toBe(report.started);
    expect(report.succeeded + report.thresholdNotMet).toBe(report.completed);
    // The images in turn, in key order: which of them pass is known.
    const sorted = images.map((i) => i.key).sort();
    const started = Array.from({ length: report.started }, (_, i) => byKey(sorted[i % sorted.length]));
    expect(report.succeeded).toBe(started.filter(passes).length);
    expect(report.latencyMs.p50).toBeGreaterThan(0);
    expect(stderr).toContain('scones load: 10/s for 1.00 s, at most 4 in flight, over 12 images of s3://scones/data/test/');
  });

  it("--target aws runs the project's state machines on the stack, reached through the environment of `scones env`", async () => {
    // A local run installs the functions and state machines (with this threshold).
    const [first, second] = images;
    const installed = await scones(['run', first.key, '--endpoint', ENDPOINT, '--threshold', String(threshold), '--data-dir', stack.dataDir]);
    expect([0, 1]).toContain(installed.code);
    const { code, stdout, stderr } = await scones(
      ['run', '--target', 'aws', '--state-machine-arn', machineArn('SconesStack-classify'), '--bucket', 'scones', first.key, second.key, '--json'],
      awsTargetEnv(stack),
    );
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ target: 'aws', stateMachineArn: machineArn('SconesStack-classify') });
    expect(result.executions.map((e: { s3_key: string; status: string; error?: string }) => [e.s3_key, e.status, e.error ?? null])).toEqual([expected(first), expected(second)]);
  });
});

describe("a learner's own workflow: Python functions and the console's definition", () => {
  it('deploys the three functions, runs the exported definition over the test images, and counts failures per error (TypeError for raise("..."), as on AWS)', async () => {
    const dir = join(root, 'course');
    const { functions, definition } = await writeCourseWorkflow(dir, { endpoint: ENDPOINT, threshold });
    for (const step of ['serialize', 'classify', 'filter'] as const) {
      const deployed = await scones(['functions', 'deploy', COURSE_FUNCTIONS[step], functions[step], '--runtime', 'python3.12', '--handler', 'lambda_function.lambda_handler', '--data-dir', stack.dataDir, '--json']);
      expect({ step, code: deployed.code, stderr: deployed.code === 0 ? '' : deployed.stderr }).toEqual({ step, code: 0, stderr: '' });
      expect(JSON.parse(deployed.stdout)).toMatchObject({ ok: true, name: COURSE_FUNCTIONS[step], functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${COURSE_FUNCTIONS[step]}` });
    }
    const listed = JSON.parse((await scones(['functions', 'list', '--data-dir', stack.dataDir, '--json'])).stdout);
    expect(listed.functions.map((f: { name: string }) => f.name)).toEqual(expect.arrayContaining(Object.values(COURSE_FUNCTIONS)));

    // serialize's bytes come back as the base64 text, as the AWS Python runtime marshals them.
    const [image] = images;
    const invoked = await scones(['functions', 'invoke', COURSE_FUNCTIONS.serialize, '--payload', JSON.stringify({ s3_bucket: 'scones', s3_key: image.key }), '--data-dir', stack.dataDir, '--json']);
    expect(invoked.code).toBe(0);
    const bytes = await (await clients.s3.send(new GetObjectCommand({ Bucket: 'scones', Key: image.key }))).Body!.transformToByteArray();
    expect(JSON.parse(invoked.stdout).result).toEqual({ statusCode: 200, body: { image_data: Buffer.from(bytes).toString('base64'), s3_bucket: 'scones', s3_key: image.key, inferences: [] } });

    const { code, stdout, stderr } = await scones(['run', '--definition', definition, '--all', 'data/test/', '--data-dir', stack.dataDir, '--json']);
    const high = images.filter(passes);
    const low = images.filter((i) => !passes(i));
    // An image below the threshold fails with TypeError, which is not the project's error name: exit 1.
    expect({ code, stderr: code === 1 ? '' : stderr }).toEqual({ code: 1, stderr: '' });
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ target: 'local', definition, stateMachineArn: machineArn('stepfunction') });
    expect(result.summary).toMatchObject({ images: 12, succeeded: high.length, thresholdNotMet: 0, failedOtherwise: low.length, failuresByError: { TypeError: low.length } });
    const outcome = (e: { s3_key: string; status: string; error?: string }) => [e.s3_key, e.status, e.error ?? null];
    expect(result.executions.map(outcome).sort()).toEqual(images.map((i) => [i.key, passes(i) ? 'SUCCEEDED' : 'FAILED', passes(i) ? null : 'TypeError']).sort());
    for (const execution of result.executions.filter((e: { status: string }) => e.status === 'FAILED')) {
      expect(JSON.parse(execution.cause)).toMatchObject({ errorType: 'TypeError', errorMessage: 'exceptions must derive from BaseException' });
    }

    // The human summary says it at a glance.
    const human = await scones(['run', '--definition', definition, high[0].key, low[0].key, '--data-dir', stack.dataDir]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('2 images: 1 passed, 0 THRESHOLD_CONFIDENCE_NOT_MET, 1 failed otherwise (TypeError 1)');
    expect(human.stderr).toContain(`FAIL  ${low[0].key}  TypeError: exceptions must derive from BaseException`);
  });
});
