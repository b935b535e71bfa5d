import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DeleteEndpointCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, DescribeTrainingJobCommand, ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { writeFixtureArtifact } from '@scones/image-classifier/testing';
import { dataCaptureRecordSchema, parseOrThrow } from '@scones/payload-schemas';
import { startLocalS3 } from '@scones/stack-core/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { scones, sconesProcess, waitFor } from '../../test/run-cli';
import { awsTargetEnv, down, ensureBucket, getText, listKeys, processTree, putDirectory, putImageSet, stackClients, stillRunning, testPng, upDetached, type RunningStack } from '../../test/stack-kit';
import { createProgram } from '../program';

// `scones deploy` and `scones invoke` as a user runs them (tools/scones.js in child processes), on
// the local stack: a real (untrained) model artifact, the stack's SageMaker and SageMaker Runtime
// with data capture to its S3, and the same commands with --target aws pointed at the stack
// through the environment `scones env` prints. Only CloudFormation (for --stack) is mocked.
jest.setTimeout(240_000);

/** The built-in image-classification algorithm's image in us-east-1 (the stack's region). */
const BUILTIN_IMAGE = '811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1';
const ROLE = 'arn:aws:iam::000000000000:role/x';

let root: string;
let modelDir: string;
let imageFile: string;
const png = testPng(120, 1);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'scones-deploy-'));
  modelDir = join(root, 'model');
  imageFile = join(root, 'image.png');
  await writeFixtureArtifact(modelDir, { jobName: 'fixture-job' });
  await writeFile(imageFile, png);
}, 120_000);
afterAll(() => rm(root, { recursive: true, force: true }));

/** The capture records written under `data_capture/<endpoint>/AllTraffic/`, once there are `count`. */
async function captureRecords(clients: ReturnType<typeof stackClients>, bucket: string, endpoint: string, count: number) {
  return waitFor(
    async () => {
      const keys = (await listKeys(clients.s3, bucket, `data_capture/${endpoint}/AllTraffic/`)).filter((k) => k.endsWith('.jsonl'));
      const lines = (await Promise.all(keys.map((k) => getText(clients.s3, bucket, k)))).flatMap((text) => text.split('\n').filter((l) => l.trim() !== ''));
      return lines.length >= count ? lines.map((line, i) => parseOrThrow(dataCaptureRecordSchema, JSON.parse(line), `capture record ${i}`)) : undefined;
    },
    { timeoutMs: 60_000, what: `${count} capture record(s) of ${endpoint}` },
  );
}

describe('scones deploy / invoke on a running stack', () => {
  let stack: RunningStack;
  let clients: ReturnType<typeof stackClients>;

  beforeAll(async () => {
    stack = await upDetached(join(root, 'stack'));
    clients = stackClients(stack.env);
  }, 120_000);
  afterAll(async () => {
    clients?.destroy();
    await down(join(root, 'stack'));
  });

  it('--model <dir>: uploads the artifact, creates the model, the config with data capture and the endpoint; invoke classifies; the capture holds the request', async () => {
    const deployed = await scones(['deploy', '--model', modelDir, '--name', 'cli-model', '--data-dir', stack.dataDir, '--json']);
    expect({ code: deployed.code, stderr: deployed.code === 0 ? '' : deployed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(deployed.stderr).not.toContain('started a local stack'); // the running one serves it
    const result = JSON.parse(deployed.stdout);
    expect(result).toMatchObject({
      ok: true,
      target: 'local',
      endpointName: 'cli-model',
      status: 'InService',
      updated: false,
      image: BUILTIN_IMAGE,
      modelDataUrl: expect.stringMatching(/^s3:\/\/scones\/models\/cli-model-\d{14}\/$/),
      captureDestination: 's3://scones/data_capture',
      stackUrl: stack.url,
      invocationsUrl: `${stack.url}/endpoints/cli-model/invocations`,
    });
    const prefix = result.modelDataUrl.slice('s3://scones/'.length);
    expect(await listKeys(clients.s3, 'scones', prefix)).toEqual(['manifest.json', 'model.json', 'weights.bin'].map((f) => `${prefix}${f}`));

    // What the stack now holds is what a SageMaker console would show.
    const endpoint = await clients.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'cli-model' }));
    expect(endpoint).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: result.endpointConfigName });
    const config = await clients.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: result.endpointConfigName }));
    expect(config.DataCaptureConfig).toMatchObject({ EnableCapture: true, InitialSamplingPercentage: 100, DestinationS3Uri: 's3://scones/data_capture' });
    expect(config.ProductionVariants).toEqual([expect.objectContaining({ VariantName: 'AllTraffic', ModelName: result.modelName, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' })]);
    const model = await clients.sagemaker.send(new DescribeModelCommand({ ModelName: result.modelName }));
    expect(model.PrimaryContainer).toMatchObject({ Image: BUILTIN_IMAGE, ModelDataUrl: result.modelDataUrl });

    const invoked = await scones(['invoke', 'cli-model', imageFile, '--data-dir', stack.dataDir, '--json']);
    expect(invoked.code).toBe(0);
    const answer = JSON.parse(invoked.stdout);
    expect(answer).toMatchObject({ ok: true, endpoint: 'cli-model', contentType: 'image/png', variant: 'AllTraffic' });
    expect(answer.probabilities).toHaveLength(2);
    expect(answer.probabilities[0] + answer.probabilities[1]).toBeCloseTo(1, 5);
    expect(answer.top).toBe(answer.probabilities[0] >= answer.probabilities[1] ? 0 : 1);
    // --endpoint-url: a SageMaker Runtime URL given by hand (here the stack's) instead of the stack of --data-dir.
    const byUrl = await scones(['invoke', 'cli-model', imageFile, '--endpoint-url', stack.url, '--data-dir', join(root, 'no-stack-here'), '--json']);
    expect(byUrl.code).toBe(0);
    expect(JSON.parse(byUrl.stdout).probabilities).toEqual(answer.probabilities);
    // Any SDK client gets the same answer for the same bytes.
    const direct = await clients.runtime.send(new InvokeEndpointCommand({ EndpointName: 'cli-model', ContentType: 'image/png', Body: png }));
    expect(JSON.parse(Buffer.from(direct.Body!).toString('utf8'))).toEqual(answer.probabilities);

    // Deleting the endpoint stops it; it writes its last capture file first.
    await clients.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'cli-model' }));
    // Three requests: `scones invoke` twice and the SDK's.
    const records = await captureRecords(clients, 'scones', 'cli-model', 3);
    expect(records).toHaveLength(3);
    for (const record of records) {
      expect(record.captureData.endpointInput.data).toBe(png.toString('base64'));
      expect(JSON.parse(record.captureData.endpointOutput.data)).toEqual(answer.probabilities);
    }
  });

  it('--job: deploys the model a completed training job wrote, with its image', async () => {
    await ensureBucket(clients.s3, 'scones');
    await putImageSet(clients.s3, 'scones', 'deploy-job-data/', { train: 6, test: 2 });
    const trained = await scones(['train', '--data-prefix', 'deploy-job-data/', '--quick', '--epochs', '1', '--job-name', 'cli-deploy-job', '--data-dir', stack.dataDir, '--json']);
    expect({ code: trained.code, stderr: trained.code === 0 ? '' : trained.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(trained.stdout)).toMatchObject({ location: 's3://scones/models/cli-deploy-job/output/model.tar.gz' });

    const deployed = await scones(['deploy', '--job', 'cli-deploy-job', '--name', 'cli-job', '--data-dir', stack.dataDir, '--json']);
    expect({ code: deployed.code, stderr: deployed.code === 0 ? '' : deployed.stderr }).toEqual({ code: 0, stderr: '' });
    const job = await clients.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'cli-deploy-job' }));
    const result = JSON.parse(deployed.stdout);
    expect(result).toMatchObject({ endpointName: 'cli-job', status: 'InService', modelDataUrl: 's3://scones/models/cli-deploy-job/output/model.tar.gz', image: job.AlgorithmSpecification?.TrainingImage });
    const model = await clients.sagemaker.send(new DescribeModelCommand({ ModelName: result.modelName }));
    expect(model).toMatchObject({ ExecutionRoleArn: job.RoleArn, PrimaryContainer: { ModelDataUrl: 's3://scones/models/cli-deploy-job/output/model.tar.gz' } });

    const invoked = await scones(['invoke', 'cli-job', imageFile, '--data-dir', stack.dataDir, '--json']);
    expect(invoked.code).toBe(0);
    expect(JSON.parse(invoked.stdout).probabilities).toHaveLength(2);
  });

  it('--target aws, pointed at the stack by the environment of `scones env`: the same calls, the SageMaker way', async () => {
    await ensureBucket(clients.s3, 'scones');
    await putDirectory(clients.s3, 'scones', 'aws-model/', modelDir);
    const env = awsTargetEnv(stack);
    const deployed = await scones(
      ['deploy', '--target', 'aws', '--bucket', 'scones', '--name', 'cli-aws', '--model-data', 's3://scones/aws-model/', '--image', BUILTIN_IMAGE, '--role-arn', ROLE, '--sampling', '50', '--instance-type', 'ml.c5.large', '--json'],
      env,
    );
    expect({ code: deployed.code, stderr: deployed.code === 0 ? '' : deployed.stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(deployed.stdout);
    expect(result).toMatchObject({ ok: true, target: 'aws', endpointName: 'cli-aws', status: 'InService', modelDataUrl: 's3://scones/aws-model/', captureDestination: 's3://scones/data_capture' });
    expect(result.stackUrl).toBeUndefined();

    const model = await clients.sagemaker.send(new DescribeModelCommand({ ModelName: result.modelName }));
    expect(model).toMatchObject({ ExecutionRoleArn: ROLE, PrimaryContainer: { Image: BUILTIN_IMAGE, ModelDataUrl: 's3://scones/aws-model/' } });
    const config = await clients.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: result.endpointConfigName }));
    expect(config.DataCaptureConfig).toMatchObject({ EnableCapture: true, InitialSamplingPercentage: 50, DestinationS3Uri: 's3://scones/data_capture' });
    expect(config.ProductionVariants).toEqual([expect.objectContaining({ VariantName: 'AllTraffic', ModelName: result.modelName, InstanceType: 'ml.c5.large', InitialInstanceCount: 1 })]);

    const invoked = await scones(['invoke', 'cli-aws', imageFile, '--target', 'aws', '--json'], env);
    expect(invoked.code).toBe(0);
    expect(JSON.parse(invoked.stdout)).toMatchObject({ ok: true, endpoint: 'cli-aws', variant: 'AllTraffic' });
  });

  describe('--target aws --stack (CloudFormation mocked: the stack does not serve it)', () => {
    const saved: Record<string, string | undefined> = {};
    let stdout: string;
    let stderr: string;
    beforeEach(() => {
      // The Jest worker's own SDK clients find the stack as a shell after `eval "$(scones env)"` would.
      for (const [key, value] of Object.entries(awsTargetEnv(stack))) {
        saved[key] = process.env[key];
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      stdout = '';
      stderr = '';
      jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
      jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
    });
    afterEach(() => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      jest.restoreAllMocks();
      process.exitCode = undefined;
    });

    it("captures to the stack's BucketName output", async () => {
      const cloudformation = mockClient(CloudFormationClient);
      try {
        const outputs = { BucketName: 'stack-bucket', StateMachineArn: 'arn:sm', BatchStateMachineArn: 'arn:bsm', EndpointName: 'e', TopicArn: 'arn:t' };
        cloudformation.on(DescribeStacksCommand).resolves({
          Stacks: [{ StackName: 'Prod', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
        });
        await ensureBucket(clients.s3, 'stack-bucket');
        await putDirectory(clients.s3, 'stack-bucket', 'stack-model/', modelDir);
        await createProgram().parseAsync(['node', 'scones', 'deploy', '--target', 'aws', '--stack', 'Prod', '--name', 'cli-stack', '--model-data', 's3://stack-bucket/stack-model/', '--image', BUILTIN_IMAGE, '--role-arn', ROLE, '--json']);
        expect({ exitCode: process.exitCode, stderr: process.exitCode === 0 ? '' : stderr }).toEqual({ exitCode: 0, stderr: '' });
        expect(cloudformation.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input)).toEqual([{ StackName: 'Prod' }]);
        const result = JSON.parse(stdout);
        expect(result).toMatchObject({ target: 'aws', endpointName: 'cli-stack', captureDestination: 's3://stack-bucket/data_capture' });
        const config = await clients.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: result.endpointConfigName }));
        expect(config.DataCaptureConfig?.DestinationS3Uri).toBe('s3://stack-bucket/data_capture');
      } finally {
        cloudformation.restore();
      }
    });
  });

  it('names bad input: exit 2 for the command line (nothing created), 1 for what the stack refuses', async () => {
    const noManifest = join(root, 'not-a-model');
    await mkdir(noManifest, { recursive: true });
    await writeFile(join(noManifest, 'model.json'), '{}');
    const d = ['--data-dir', stack.dataDir];
    const cases: Array<[string[], number, string]> = [
      [['deploy', '--name', 'bad_name', ...d], 2, '--name "bad_name": expected 1-63 letters, digits and hyphens'],
      [['deploy', '--model', noManifest, '--name', 'cli-bad-1', ...d], 2, `--model ${noManifest}: not a model artifact (no manifest.json)`],
      [['deploy', '--model', join(root, 'nothing'), '--name', 'cli-bad-2', ...d], 2, `--model ${join(root, 'nothing')}: no such directory`],
      [['deploy', '--model', imageFile, '--name', 'cli-bad-3', ...d], 2, `--model ${imageFile}: not a directory`],
      [['deploy', '--model', modelDir, '--model-data', 's3://scones/m/', '--name', 'cli-bad-4', ...d], 2, 'give either --model <dir> or --model-data <s3-uri>'],
      [['deploy', '--target', 'aws', '--bucket', 'scones', '--model', modelDir, '--name', 'cli-bad-5'], 2, '--model applies to --target local only'],
      [['deploy', '--target', 'aws', '--job', 'j', '--name', 'cli-bad-6'], 2, '--bucket is required with --target aws'],
      [['deploy', '--sampling', '150', ...d], 2, 'expected a number between 0 and 100'],
      [['deploy', '--job', 'no-such-job', '--name', 'cli-bad-7', ...d], 1, 'scones deploy: error: SageMakerDeploymentError: DescribeTrainingJob no-such-job: ValidationException: Requested resource not found.'],
      [['invoke', 'nobody', imageFile, ...d], 1, 'Endpoint nobody of account 000000000000 not found.'],
      [['invoke', 'nobody', join(root, 'missing.png'), ...d], 2, `<image> ${join(root, 'missing.png')}: no such file`],
      [['invoke', 'nobody', imageFile, '--endpoint-url', 'not a url'], 2, '--endpoint-url: expected a URL like http://127.0.0.1:8080, got "not a url"'],
    ];
    for (const [args, code, message] of cases) {
      const run = await scones(args, awsTargetEnv(stack));
      expect({ args, code: run.code }).toEqual({ args, code });
      expect(run.stderr).toContain(message);
    }
    const endpoints = (await clients.sagemaker.send(new ListEndpointsCommand({}))).Endpoints?.map((e) => e.EndpointName) ?? [];
    expect(endpoints.filter((name) => name?.startsWith('cli-bad'))).toEqual([]);
  });
});

describe('scones deploy without a running stack', () => {
  it('starts a stack for itself and serves until Ctrl-C, then exits 0 and leaves nothing running; the capture is written', async () => {
    const dataDir = join(root, 'foreground');
    const deploy = sconesProcess(['deploy', '--model', modelDir, '--name', 'cli-fg', '--data-dir', dataDir, '--json']);
    try {
      const result = await waitFor(
        () => {
          const { stdout } = deploy.output();
          if (deploy.child.exitCode !== null) throw new Error(`deploy exited ${deploy.child.exitCode}: ${deploy.output().stderr}`);
          return stdout.trimEnd().endsWith('}') ? JSON.parse(stdout) : undefined;
        },
        { timeoutMs: 120_000, what: 'the deploy result' },
      );
      expect(result).toMatchObject({ ok: true, target: 'local', endpointName: 'cli-fg', status: 'InService' });
      expect(deploy.output().stderr).toContain('scones: started a local stack at');
      const tree = await processTree(deploy.child.pid!);
      expect(tree.length).toBeGreaterThan(1); // the endpoint's worker runs under it

      // Another command finds the stack of that deploy and uses it.
      const status = await scones(['status', '--data-dir', dataDir, '--json']);
      expect(JSON.parse(status.stdout)).toMatchObject({ running: true, url: result.stackUrl, pid: deploy.child.pid });
      const invoked = await scones(['invoke', 'cli-fg', imageFile, '--data-dir', dataDir, '--json']);
      expect(invoked.code).toBe(0);
      expect(invoked.stderr).not.toContain('started a local stack');

      deploy.child.kill('SIGINT');
      expect(await deploy.exited).toBe(0);
      expect(deploy.output().stderr).toContain('scones deploy: stopping the local stack');
      expect(await stillRunning(tree)).toEqual([]);
      const after = await scones(['status', '--data-dir', dataDir, '--json']);
      expect(JSON.parse(after.stdout)).toMatchObject({ running: false });
    } finally {
      if (deploy.child.exitCode === null) deploy.child.kill('SIGKILL');
    }

    // The capture of the one request was written as the endpoint stopped.
    const s3 = await startLocalS3({ directory: dataDir, buckets: [] });
    try {
      const clients = stackClients({ AWS_ENDPOINT_URL: s3.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' });
      const records = await captureRecords(clients, 'scones', 'cli-fg', 1);
      expect(records.map((r) => r.captureData.endpointInput.data)).toEqual([png.toString('base64')]);
      clients.destroy();
    } finally {
      await s3.stop();
    }
  });

  it('--detach starts a stack in the background that keeps serving the endpoint; `scones down` stops it', async () => {
    const dataDir = join(root, 'detached');
    try {
      const deployed = await scones(['deploy', '--model', modelDir, '--name', 'cli-detached', '--detach', '--data-dir', dataDir, '--json']);
      expect({ code: deployed.code, stderr: deployed.code === 0 ? '' : deployed.stderr }).toEqual({ code: 0, stderr: '' });
      expect(deployed.stderr).toContain('scones deploy: started the local stack in the background at');
      const result = JSON.parse(deployed.stdout);
      expect(result).toMatchObject({ ok: true, endpointName: 'cli-detached', status: 'InService' });
      const status = JSON.parse((await scones(['status', '--data-dir', dataDir, '--json'])).stdout);
      expect(status).toMatchObject({ running: true, url: result.stackUrl });
      expect((await scones(['invoke', 'cli-detached', imageFile, '--data-dir', dataDir])).code).toBe(0);
    } finally {
      await down(dataDir);
    }
    expect(JSON.parse((await scones(['status', '--data-dir', dataDir, '--json'])).stdout)).toMatchObject({ running: false });
  });

  it('refuses bad input before starting anything', async () => {
    const dataDir = join(root, 'never-started');
    const run = await scones(['deploy', '--model', join(root, 'nothing'), '--data-dir', dataDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no such directory');
    expect(run.stderr).not.toContain('started a local stack');
    expect((await scones(['status', '--data-dir', dataDir, '--json'])).stdout).toContain('"running": false');
  });
});
