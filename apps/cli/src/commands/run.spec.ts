import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CreateStateMachineCommand, DescribeExecutionCommand, DescribeStateMachineCommand, ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { scones } from '../../test/run-cli';
import { awsTargetEnv, down, ensureBucket, putObject, stackClients, testPng, upDetached, type RunningStack } from '../../test/stack-kit';
import { createProgram } from '../program';

// `scones run` and `scones load` against the Step Functions API of a real server: the local stack
// (`scones up --detach`), reached with --target aws through the environment `scones env` prints,
// with state machines of Pass/Choice/Fail states and the stack's ListObjectsV2 integration whose
// outcome each image's key decides — fast and deterministic, no model, no functions. Also the
// command-line checks and `--definition`'s bad input. (The project's own workflow, with its
// functions and a deployed model, runs in run.slow.spec.ts.) Only CloudFormation (--stack) is mocked.
jest.setTimeout(180_000);

const ROLE = 'arn:aws:iam::000000000000:role/x';
const THRESHOLD_CAUSE = '{"errorType":"THRESHOLD_CONFIDENCE_NOT_MET","errorMessage":"THRESHOLD_CONFIDENCE_NOT_MET","trace":[]}';

/**
 * The single-image machine: keys with `gone` fail as a missing image, with `unsure` below the
 * threshold; every other image passes, classified [0.9, 0.1] (class 0).
 */
const SINGLE = {
  StartAt: 'Route',
  States: {
    Route: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.s3_key', StringMatches: '*gone*', Next: 'Missing' },
        { Variable: '$.s3_key', StringMatches: '*unsure*', Next: 'Unsure' },
      ],
      Default: 'Classified',
    },
    Missing: { Type: 'Fail', Error: 'ImageNotFound', Cause: '{"errorType":"ImageNotFound","errorMessage":"no such object","trace":[]}' },
    Unsure: { Type: 'Fail', Error: 'THRESHOLD_CONFIDENCE_NOT_MET', Cause: THRESHOLD_CAUSE },
    Classified: {
      Type: 'Pass',
      Parameters: { statusCode: 200, body: { image_data: '', 's3_bucket.$': '$.s3_bucket', 's3_key.$': '$.s3_key', inferences: [0.9, 0.1] } },
      End: true,
    },
  },
};

/** The batch machine: lists `s3_prefix` (ListObjectsV2) and records one result per key, as the project's batch definition does. */
const BATCH = {
  StartAt: 'List images',
  States: {
    'List images': {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:s3:listObjectsV2',
      Parameters: { 'Bucket.$': '$.s3_bucket', 'Prefix.$': '$.s3_prefix' },
      ResultPath: '$.listing',
      Next: 'Classify images',
    },
    'Classify images': {
      Type: 'Map',
      ItemsPath: '$.listing.Contents',
      ItemSelector: { 's3_key.$': '$$.Map.Item.Value.Key' },
      ItemProcessor: {
        StartAt: 'Route',
        States: {
          Route: { Type: 'Choice', Choices: [{ Variable: '$.s3_key', StringMatches: '*unsure*', Next: 'Low' }], Default: 'High' },
          Low: { Type: 'Pass', Parameters: { 's3_key.$': '$.s3_key', error: 'THRESHOLD_CONFIDENCE_NOT_MET', cause: THRESHOLD_CAUSE }, End: true },
          High: { Type: 'Pass', Parameters: { 's3_key.$': '$.s3_key', inferences: [0.9, 0.1] }, End: true },
        },
      },
      ResultPath: '$.results',
      Next: 'Collect results',
    },
    'Collect results': { Type: 'Pass', Parameters: { 's3_bucket.$': '$.s3_bucket', 'results.$': '$.results' }, End: true },
  },
};

/** The test images: label 0 for bicycles, 1 for motorcycles (data/test.lst). */
const IMAGES = [
  { key: 'data/test/bicycle_s_000001.png', label: 0 },
  { key: 'data/test/motorcycle_s_000002.png', label: 1 },
  { key: 'data/test/bicycle_unsure_s_000003.png', label: 0 },
];

let root: string;
let stack: RunningStack;
let clients: ReturnType<typeof stackClients>;
let single: string;
let batch: string;

async function createMachine(sfn: SFNClient, name: string, definition: object): Promise<string> {
  return (await sfn.send(new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: ROLE }))).stateMachineArn!;
}

/** The inputs of the executions of a state machine, oldest first. */
async function executionInputs(machine: string): Promise<Array<Record<string, unknown>>> {
  const listed = (await clients.sfn.send(new ListExecutionsCommand({ stateMachineArn: machine }))).executions ?? [];
  const inputs = await Promise.all(listed.map(async (e) => ({ start: e.startDate!.getTime(), input: JSON.parse((await clients.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }))).input ?? 'null') })));
  return inputs.sort((a, b) => a.start - b.start).map((e) => e.input);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'scones-run-'));
  stack = await upDetached(join(root, 'stack'));
  clients = stackClients(stack.env);
  await ensureBucket(clients.s3, 'scones');
  for (const [i, image] of IMAGES.entries()) await putObject(clients.s3, 'scones', image.key, testPng(80 + i * 40, i));
  await putObject(clients.s3, 'scones', 'data/test.lst', `${IMAGES.map((image, row) => `${row}\t${image.label}\t${image.key.slice('data/test/'.length)}`).join('\n')}\n`);
  single = await createMachine(clients.sfn, 'cli-single', SINGLE);
  batch = await createMachine(clients.sfn, 'cli-batch', BATCH);
}, 120_000);
afterAll(async () => {
  clients?.destroy();
  await down(join(root, 'stack'));
  await rm(root, { recursive: true, force: true });
});

describe('scones run / load --target aws, against the stack', () => {
  const aws = (args: string[]) => scones([args[0], '--target', 'aws', ...args.slice(1)], awsTargetEnv(stack));

  it('starts one execution per key with exactly the starter event, and summarises the outcomes against the ground truth', async () => {
    // A machine of this test's own: its executions are only this test's.
    const machine = await createMachine(clients.sfn, 'cli-keys', SINGLE);
    const keys = IMAGES.map((i) => i.key);
    const { code, stdout, stderr } = await aws(['run', '--state-machine-arn', machine, '--bucket', 'scones', ...keys, '--json']);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });

    const inputs = await executionInputs(machine);
    expect(inputs.sort((a, b) => String(a.s3_key).localeCompare(String(b.s3_key)))).toEqual([...keys].sort().map((s3_key) => ({ image_data: '', s3_bucket: 'scones', s3_key })));
    const listed = (await clients.sfn.send(new ListExecutionsCommand({ stateMachineArn: machine }))).executions ?? [];
    for (const execution of listed) expect(execution.name).toMatch(/^[0-9a-f-]{36}$/);

    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ ok: true, command: 'run', target: 'aws', mode: 'keys', stateMachineArn: machine, bucket: 'scones' });
    expect(result.executions.map((e: { s3_key: string; status: string; error?: string }) => [e.s3_key, e.status, e.error ?? null])).toEqual([
      [keys[0], 'SUCCEEDED', null],
      [keys[1], 'SUCCEEDED', null],
      [keys[2], 'FAILED', 'THRESHOLD_CONFIDENCE_NOT_MET'],
    ]);
    expect(result.executions[0].inferences).toEqual([0.9, 0.1]);
    expect(result.summary).toMatchObject({
      images: 3,
      succeeded: 2,
      thresholdNotMet: 1,
      failedOtherwise: 0,
      failuresByError: { THRESHOLD_CONFIDENCE_NOT_MET: 1 },
      accuracy: { source: 's3://scones/data/test.lst', evaluated: 2, correct: 1, accuracy: 0.5 },
    });
  });

  it('exits 1 when an image fails otherwise than by the threshold, naming the error and the image', async () => {
    const { code, stdout, stderr } = await aws(['run', '--state-machine-arn', single, '--bucket', 'scones', 'data/test/gone.png']);
    expect(code).toBe(1);
    expect(stderr).toContain('FAIL  data/test/gone.png  ImageNotFound: no such object');
    expect(stdout).toContain('1 image: 0 passed, 0 THRESHOLD_CONFIDENCE_NOT_MET, 1 failed otherwise (ImageNotFound 1)');
  });

  it('--all runs the batch machine over the listed prefix', async () => {
    const { code, stdout, stderr } = await aws(['run', '--state-machine-arn', single, '--batch-state-machine-arn', batch, '--bucket', 'scones', '--all', 'data/test/', '--json']);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ mode: 'all', batch: { status: 'SUCCEEDED' }, summary: { images: 3, succeeded: 2, thresholdNotMet: 1, failedOtherwise: 0, accuracy: { evaluated: 2, correct: 1 } } });
    // Every listed image has one result.
    expect(result.batch.images.map((i: { s3_key: string }) => i.s3_key).sort()).toEqual(IMAGES.map((i) => i.key).sort());
    expect(JSON.parse((await clients.sfn.send(new DescribeExecutionCommand({ executionArn: result.batch.executionArn }))).input!)).toEqual({ s3_bucket: 'scones', s3_prefix: 'data/test/' });
  });

  it('--random draws keys from the images under --prefix, with replacement', async () => {
    const machine = await createMachine(clients.sfn, 'cli-random', SINGLE);
    const { code, stdout } = await aws(['run', '--state-machine-arn', machine, '--bucket', 'scones', '--random', '5', '--json']);
    expect(code).toBe(0);
    const keys = (await executionInputs(machine)).map((input) => input.s3_key);
    expect(keys).toHaveLength(5);
    for (const key of keys) expect(IMAGES.map((i) => i.key)).toContain(key);
    expect(JSON.parse(stdout).summary.images).toBe(5);
  });

  it('names the state machine when StartExecution fails, and exits 1', async () => {
    const missing = single.replace(/cli-single$/, 'no-such-machine');
    const { code, stderr } = await aws(['run', '--state-machine-arn', missing, '--bucket', 'scones', 'data/test/bicycle_s_000001.png']);
    expect(code).toBe(1);
    expect(stderr).toContain(`StartExecution of ${missing}: StateMachineDoesNotExist`);
  });

  it('load: starts executions over the images at the rate for the duration and accounts for every one', async () => {
    const machine = await createMachine(clients.sfn, 'cli-load', SINGLE);
    const { code, stdout, stderr } = await aws(['load', '--state-machine-arn', machine, '--bucket', 'scones', '--rate', '20', '--duration', '1s', '--concurrency', '4', '--json']);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const { report } = JSON.parse(stdout);
    // How many start in 1 s depends on the machine; the exact schedule is covered with a virtual
    // clock in libs/workflow's load-generator.spec.ts. Here: the rate bounds it, and every
    // started execution is accounted for, on the server too.
    expect(report).toMatchObject({ failedOtherwise: 0, interrupted: false });
    expect(report.started).toBeGreaterThanOrEqual(1);
    expect(report.started).toBeLessThanOrEqual(20);
    expect(report.completed).toBe(report.started);
    expect(report.succeeded + report.thresholdNotMet).toBe(report.completed);
    const keys = (await executionInputs(machine)).map((input) => input.s3_key);
    expect(keys).toHaveLength(report.started);
    // The images in turn, in key order (compared as a multiset: two starts may share a timestamp).
    const sorted = IMAGES.map((i) => i.key).sort();
    expect([...keys].sort()).toEqual(keys.map((_, i) => sorted[i % sorted.length]).sort());
    expect(report.thresholdNotMet).toBe(keys.filter((k) => String(k).includes('unsure')).length);
    expect(stderr).toContain('scones load: 20/s for 1.00 s, at most 4 in flight, over 3 images');
  });

  describe('--stack (CloudFormation mocked: the stack does not serve it)', () => {
    it('reads the ARNs and the bucket from the stack outputs', async () => {
      const saved: Record<string, string | undefined> = {};
      for (const [key, value] of Object.entries(awsTargetEnv(stack))) {
        saved[key] = process.env[key];
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      let stdout = '';
      jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
      jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const cloudformation = mockClient(CloudFormationClient);
      try {
        const outputs = { BucketName: 'scones', StateMachineArn: single, BatchStateMachineArn: batch, EndpointName: 'scones-endpoint', TopicArn: 'arn:aws:sns:us-east-1:000000000000:failures' };
        cloudformation.on(DescribeStacksCommand).resolves({
          Stacks: [{ StackName: 'SconesStack', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(0), Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
        });
        await createProgram().parseAsync(['node', 'scones', 'run', '--target', 'aws', '--all', 'data/test/', '--json']);
        expect(process.exitCode).toBe(0);
        expect(cloudformation.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input)).toEqual([{ StackName: 'SconesStack' }]);
        expect(JSON.parse(stdout)).toMatchObject({ mode: 'all', stateMachineArn: single, batchStateMachineArn: batch, bucket: 'scones', batch: { status: 'SUCCEEDED' }, summary: { thresholdNotMet: 1 } });
      } finally {
        cloudformation.restore();
        jest.restoreAllMocks();
        process.exitCode = undefined;
        for (const [key, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      }
    });
  });
});

describe('scones run --definition (local)', () => {
  it("runs a user's state machine from a file, creating it and then updating it", async () => {
    const file = join(root, 'my-flow.asl.json');
    await writeFile(file, JSON.stringify(SINGLE));
    const first = await scones(['run', '--definition', file, 'data/test/bicycle_s_000001.png', 'data/test/bicycle_unsure_s_000003.png', '--data-dir', stack.dataDir, '--json']);
    expect({ code: first.code, stderr: first.code === 0 ? '' : first.stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(first.stdout);
    expect(result).toMatchObject({ target: 'local', definition: file, stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:my-flow', summary: { images: 2, succeeded: 1, thresholdNotMet: 1 } });

    // Edited: the next run updates the state machine of that name.
    await writeFile(file, JSON.stringify({ ...SINGLE, States: { ...SINGLE.States, Classified: { ...SINGLE.States.Classified, Parameters: { ...SINGLE.States.Classified.Parameters, body: { inferences: [0.2, 0.8] } } } } }));
    const second = await scones(['run', '--definition', file, 'data/test/bicycle_s_000001.png', '--data-dir', stack.dataDir, '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).executions[0].inferences).toEqual([0.2, 0.8]);
    const described = await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: result.stateMachineArn }));
    expect(JSON.parse(described.definition!).States.Classified.Parameters.body.inferences).toEqual([0.2, 0.8]);
  });

  it('names a bad definition: a missing file exits 2; not JSON, not ASL, JSONata or an unserved resource exit 1 naming the problem and the state', async () => {
    const write = async (name: string, text: string) => {
      const file = join(root, name);
      await writeFile(file, text);
      return file;
    };
    const cases: Array<[string, number, string]> = [
      [join(root, 'missing.asl.json'), 2, `--definition ${join(root, 'missing.asl.json')}: no such file`],
      [await write('not-json.asl.json', '{"StartAt": '), 1, 'not-json.asl.json: InvalidDefinition: Invalid State Machine Definition: \'INVALID_JSON_DESCRIPTION'],
      [await write('not-asl.asl.json', '{"Comment": "no states"}'), 1, 'SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt, States]'],
      [
        await write('jsonata.asl.json', JSON.stringify({ QueryLanguage: 'JSONata', StartAt: 'Go', States: { Go: { Type: 'Pass', Output: '{% $states.input %}', End: true } } })),
        1,
        'State "Go": "Output" is a JSONata field',
      ],
      [await write('dangling.asl.json', JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } })), 1, `MISSING_TRANSITION_TARGET: State "A": Missing 'Next' target: Nowhere`],
      [
        await write('dynamodb.asl.json', JSON.stringify({ StartAt: 'Save', States: { Save: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', End: true } } })),
        1,
        'State "Save": arn:aws:states:::dynamodb:putItem is not served by the local stack',
      ],
    ];
    for (const [file, code, message] of cases) {
      const run = await scones(['run', '--definition', file, 'data/test/bicycle_s_000001.png', '--data-dir', stack.dataDir]);
      expect({ file, code: run.code }).toEqual({ file, code });
      expect(run.stderr).toContain(message);
      if (code === 1) expect(run.stderr).toContain(`scones run: error: WorkflowDefinitionError: ${file}: `);
    }
  });
});

describe('scones run / load: the command line', () => {
  it.each([
    [['run', '--target', 'aws', '--bucket', 'b'], 'nothing to run: give S3 keys, --random <n> or --all <prefix>'],
    [['run', '--target', 'aws', '--bucket', 'b', 'k.png', '--random', '2'], 'give either S3 keys, --random <n> or --all <prefix>'],
    [['run', '--target', 'aws', '--bucket', 'b', 'k.png', '--threshold', '0.5'], '--threshold applies to --target local only'],
    [['run', '--target', 'aws', '--bucket', 'b', 'k.png', '--definition', 'x.json'], '--definition applies to --target local only'],
    [['run', '--bucket', 'b', 'k.png', '--state-machine-arn', 'arn:aws:states:us-east-1:1:stateMachine:m'], '--state-machine-arn applies to --target aws only'],
    [['run', '--target', 'aws', '--bucket', 'b', 'k.png', '--max-concurrency', '3'], '--max-concurrency applies to --all only'],
    [['run', 'k.png', '--definition', 'x.json', '--threshold', '0.5'], "--threshold configures the project's own functions"],
    [['run', 'k.png', '--state-machine-name', 'm'], '--state-machine-name applies with --definition only'],
    [['run', 'k.png', '--all', ''], 'give either S3 keys, --random <n> or --all <prefix>'],
    [['run', '--random', '0'], "option '--random <n>' argument '0' is invalid"],
    [['load', '--target', 'aws', '--bucket', 'b', '--duration', '2h'], '--duration: expected more than 0 and at most 1h'],
    [['load', '--rate', '0'], "option '--rate <per-second>' argument '0' is invalid"],
  ])('rejects %j with exit 2, starting nothing', async (args, message) => {
    const dataDir = join(root, 'never-started');
    const run = await scones([...args, '--data-dir', dataDir]);
    expect(run.stderr).toContain(message);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('started a local stack');
    expect(existsSync(dataDir)).toBe(false);
  });

  it('says how to deploy an endpoint when the local run has none', async () => {
    const run = await scones(['run', 'data/test/bicycle_s_000001.png', '--endpoint', 'nobody-here', '--data-dir', stack.dataDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no endpoint named "nobody-here" on the local stack: deploy one with `scones deploy --name nobody-here`');
  });
});
