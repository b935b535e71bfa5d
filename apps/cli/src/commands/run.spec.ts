import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, ListObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { createProgram } from '../program';

// `scones run` and `scones load` with --target aws: every AWS call mocked, the requests asserted.
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:SconesStack-classify';
const BATCH_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:SconesStack-classify-batch';
const LST = ['0\t0\tbicycle_s_000513.png', '1\t1\tmotorcycle_s_000001.png', '2\t0\tbike_s_000002.png'].join('\n');

const executionArn = (name: string, machine = MACHINE) => `${machine.replace(':stateMachine:', ':execution:')}:${name}`;
const classified = (key: string, inferences: number[]) => JSON.stringify({ statusCode: 200, body: { image_data: 'iVBORw0KGgo=', s3_bucket: 'scones-data', s3_key: key, inferences } });

describe('scones run / load --target aws', () => {
  // Every test of this file mocks these clients.
  const sfn = mockClient(SFNClient);
  const s3 = mockClient(S3Client);
  const cloudformation = mockClient(CloudFormationClient);
  let stdout: string;
  let stderr: string;

  afterAll(() => {
    sfn.restore();
    s3.restore();
    cloudformation.restore();
  });
  beforeEach(() => {
    sfn.reset();
    s3.reset();
    cloudformation.reset();
    stdout = '';
    stderr = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
    s3.on(GetObjectCommand, { Key: 'data/test.lst' }).resolves({ Body: { transformToString: async () => LST } as never });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.exitCode = undefined;
  });

  const scones = (args: string[]) => createProgram().parseAsync(['node', 'scones', ...args]);

  /** Each StartExecution gets its own ARN; DescribeExecution answers what `answer` says for the input's key. */
  function stepFunctions(answer: (input: { s3_key?: string; s3_prefix?: string }) => Record<string, unknown>) {
    const started = new Map<string, { s3_key?: string; s3_prefix?: string }>();
    sfn.on(StartExecutionCommand).callsFake((request: { stateMachineArn: string; name: string; input: string }) => {
      const arn = executionArn(request.name, request.stateMachineArn);
      started.set(arn, JSON.parse(request.input));
      return { executionArn: arn, startDate: new Date(0) };
    });
    sfn.on(DescribeExecutionCommand).callsFake(({ executionArn: arn }: { executionArn: string }) => ({
      executionArn: arn,
      startDate: new Date(0),
      stopDate: new Date(2800),
      ...answer(started.get(arn)!),
    }));
  }

  it('starts one execution per key with exactly the starter event, and summarises the outcomes', async () => {
    stepFunctions(({ s3_key }) =>
      s3_key === 'data/test/bike_s_000002.png'
        ? { status: 'FAILED', error: 'THRESHOLD_CONFIDENCE_NOT_MET', cause: '{"errorType":"THRESHOLD_CONFIDENCE_NOT_MET","errorMessage":"THRESHOLD_CONFIDENCE_NOT_MET","trace":[]}' }
        : { status: 'SUCCEEDED', output: classified(s3_key!, s3_key!.includes('motorcycle') ? [0.95, 0.05] : [0.9, 0.1]) },
    );
    const keys = ['data/test/bicycle_s_000513.png', 'data/test/motorcycle_s_000001.png', 'data/test/bike_s_000002.png'];
    await scones(['run', '--target', 'aws', '--region', 'eu-west-1', '--state-machine-arn', MACHINE, '--bucket', 'scones-data', ...keys, '--json']);

    expect(process.exitCode).toBe(0);
    const requests = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(requests.map((r) => r.stateMachineArn)).toEqual([MACHINE, MACHINE, MACHINE]);
    expect(requests.map((r) => JSON.parse(r.input!)).sort((a, b) => a.s3_key.localeCompare(b.s3_key))).toEqual(
      [...keys].sort().map((s3_key) => ({ image_data: '', s3_bucket: 'scones-data', s3_key })),
    );
    for (const r of requests) expect(r.name).toMatch(/^[0-9a-f-]{36}$/);
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: 'scones-data', Key: 'data/test.lst' }]);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ ok: true, command: 'run', target: 'aws', mode: 'keys', stateMachineArn: MACHINE, bucket: 'scones-data' });
    expect(result.executions.map((e: { s3_key: string; status: string }) => [e.s3_key, e.status])).toEqual([
      [keys[0], 'SUCCEEDED'],
      [keys[1], 'SUCCEEDED'],
      [keys[2], 'FAILED'],
    ]);
    expect(result.summary).toMatchObject({
      images: 3,
      succeeded: 2,
      thresholdNotMet: 1,
      failedOtherwise: 0,
      accuracy: { source: 's3://scones-data/data/test.lst', evaluated: 2, correct: 1, accuracy: 0.5 },
      latencyMs: { p50: 2800 },
    });
  });

  it('exits 1 when an image fails otherwise than by the threshold, naming the error', async () => {
    stepFunctions(() => ({ status: 'FAILED', error: 'ImageNotFound', cause: '{"errorType":"ImageNotFound","errorMessage":"s3://scones-data/data/test/gone.png: no object","trace":[]}' }));
    await scones(['run', '--target', 'aws', '--state-machine-arn', MACHINE, '--bucket', 'scones-data', 'data/test/gone.png']);
    expect(process.exitCode).toBe(1);
    expect(stderr).toContain('FAIL  data/test/gone.png  ImageNotFound: s3://scones-data/data/test/gone.png: no object');
    expect(stdout).toContain('1 image: 0 passed, 0 THRESHOLD_CONFIDENCE_NOT_MET, 1 failed otherwise (ImageNotFound 1)');
  });

  it('reads the ARNs and the bucket from the stack outputs, and runs --all on the batch machine', async () => {
    cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'SconesStack',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(0),
          Outputs: [
            { OutputKey: 'BucketName', OutputValue: 'scones-data' },
            { OutputKey: 'StateMachineArn', OutputValue: MACHINE },
            { OutputKey: 'BatchStateMachineArn', OutputValue: BATCH_MACHINE },
            { OutputKey: 'EndpointName', OutputValue: 'scones-endpoint' },
            { OutputKey: 'TopicArn', OutputValue: 'arn:aws:sns:eu-west-1:123456789012:failures' },
          ],
        },
      ],
    });
    stepFunctions(() => ({
      status: 'SUCCEEDED',
      output: JSON.stringify({
        s3_bucket: 'scones-data',
        count: 2,
        results: [
          { s3_key: 'data/test/bicycle_s_000513.png', inferences: [0.9, 0.1] },
          { s3_key: 'data/test/bike_s_000002.png', error: 'THRESHOLD_CONFIDENCE_NOT_MET', cause: '{}' },
        ],
      }),
    }));
    await scones(['run', '--target', 'aws', '--region', 'eu-west-1', '--all', 'data/test/', '--json']);

    expect(process.exitCode).toBe(0);
    expect(cloudformation.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input)).toEqual([{ StackName: 'SconesStack' }]);
    const [request] = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(request.stateMachineArn).toBe(BATCH_MACHINE);
    expect(JSON.parse(request.input!)).toEqual({ s3_bucket: 'scones-data', s3_prefix: 'data/test/' });
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ mode: 'all', batch: { status: 'SUCCEEDED' }, summary: { images: 2, succeeded: 1, thresholdNotMet: 1, accuracy: { evaluated: 1, correct: 1 } } });
  });

  it('draws --random keys from the images under --prefix', async () => {
    s3.on(ListObjectsCommand).resolves({
      IsTruncated: false,
      Contents: [{ Key: 'data/test/a.png', Size: 1, ETag: '"x"' }, { Key: 'data/test/b.png', Size: 1, ETag: '"y"' }, { Key: 'data/test/notes.txt', Size: 1, ETag: '"z"' }],
    });
    stepFunctions(({ s3_key }) => ({ status: 'SUCCEEDED', output: classified(s3_key!, [0.9, 0.1]) }));
    await scones(['run', '--target', 'aws', '--state-machine-arn', MACHINE, '--bucket', 'scones-data', '--random', '5', '--json']);
    expect(process.exitCode).toBe(0);
    expect(s3.commandCalls(ListObjectsCommand)[0].args[0].input).toMatchObject({ Bucket: 'scones-data', Prefix: 'data/test/' });
    const keys = sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input!).s3_key);
    expect(keys).toHaveLength(5);
    for (const key of keys) expect(['data/test/a.png', 'data/test/b.png']).toContain(key);
  });

  it('names the state machine when StartExecution fails, and exits 1', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }));
    await scones(['run', '--target', 'aws', '--state-machine-arn', MACHINE, '--bucket', 'scones-data', 'data/test/a.png']);
    expect(process.exitCode).toBe(1);
    expect(stderr).toContain(`StartExecution of ${MACHINE}: StateMachineDoesNotExist: State Machine Does Not Exist`);
  });

  it.each([
    [['run', '--target', 'aws', '--bucket', 'b'], 'nothing to run: give S3 keys, --random <n> or --all <prefix>'],
    [['run', '--target', 'aws', '--bucket', 'b', 'k.png', '--random', '2'], 'give either S3 keys, --random <n> or --all <prefix>'],
    [['run', '--target', 'aws', '--bucket', 'b', 'k.png', '--threshold', '0.5'], '--threshold applies to --target local only'],
    [['run', '--bucket', 'b', 'k.png', '--state-machine-arn', MACHINE], '--state-machine-arn applies to --target aws only'],
    [['run', '--target', 'aws', '--bucket', 'b', 'k.png', '--history'], '--history applies to --target local only'],
    [['run', '--target', 'aws', '--bucket', 'b', 'k.png', '--max-concurrency', '3'], '--max-concurrency applies to --all only'],
    [['load', '--target', 'aws', '--bucket', 'b', '--duration', '2h'], '--duration: expected more than 0 and at most 1h'],
  ])('rejects %j with exit 2', async (args, message) => {
    await scones(args);
    expect(stderr).toContain(message);
    expect(process.exitCode).toBe(2);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('load: keeps starting executions over the images at the rate for the duration, then reports', async () => {
    s3.on(ListObjectsCommand).resolves({ IsTruncated: false, Contents: [{ Key: 'data/test/a.png', Size: 1, ETag: '"x"' }, { Key: 'data/test/b.png', Size: 1, ETag: '"y"' }] });
    stepFunctions(({ s3_key }) =>
      s3_key === 'data/test/b.png' ? { status: 'FAILED', error: 'THRESHOLD_CONFIDENCE_NOT_MET' } : { status: 'SUCCEEDED', output: classified(s3_key!, [0.9, 0.1]) },
    );
    await scones(['load', '--target', 'aws', '--state-machine-arn', MACHINE, '--bucket', 'scones-data', '--rate', '20', '--duration', '200ms', '--json']);
    expect(process.exitCode).toBe(0);
    const keys = sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input!).s3_key);
    expect(keys).toEqual(['data/test/a.png', 'data/test/b.png', 'data/test/a.png', 'data/test/b.png']);
    expect(JSON.parse(stdout)).toMatchObject({
      ok: true,
      command: 'load',
      rate: 20,
      report: { started: 4, completed: 4, succeeded: 2, thresholdNotMet: 2, failedOtherwise: 0, interrupted: false },
    });
  });
});
