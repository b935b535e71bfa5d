import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
  SageMakerServiceException,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { encodePng } from '@scones/image-classifier';
import { createS3Client, EndpointRegistry, listObjects, startLocalS3 } from '@scones/local-cloud';
import { dataCaptureRecordSchema, parseOrThrow } from '@scones/payload-schemas';
import { createProgram } from '../program';

// `scones deploy` and `scones invoke` as a user runs them (tools/scones.js in child processes),
// against a real model artifact, the embedded S3 and the endpoint registry; --target aws in
// process with the SageMaker client mocked.
const tools = join(__dirname, '../../../../tools');
const launcher = join(tools, 'scones.js');

/** A real (untrained) model artifact in a directory or an S3 prefix (tools/write-model-fixture.ts). */
function writeFixtureArtifact(location: string, jobName = 'fixture-job', env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(tools, 'run-ts.js'), join(tools, 'write-model-fixture.ts'), location, jobName], { timeout: 60_000, env: { ...process.env, ...env } }, (error, _stdout, stderr) =>
      error ? reject(new Error(`write-model-fixture ${location}: ${stderr}`)) : resolve(),
    );
  });
}

function scones(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [launcher, ...args], { timeout: 60_000 }, (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** Starts a long-running `scones` and resolves with its --json result once printed. */
function sconesServing(args: string[]): { child: ChildProcess; result: Promise<Record<string, unknown>>; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [launcher, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const result = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      stdout += d;
      try {
        resolve(JSON.parse(stdout));
      } catch {
        /* not complete yet */
      }
    });
    void exited.then((code) => reject(new Error(`scones ${args.join(' ')} exited ${code} before its result: ${stderr}`)));
  });
  return { child, result, exited, stderr: () => stderr };
}

const png = encodePng({ width: 32, height: 32, data: new Uint8Array(32 * 32 * 3).map((_, i) => (i * 13) % 256) });

describe('scones deploy / invoke (local)', () => {
  let root: string;
  let modelDir: string;
  let imageFile: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'scones-deploy-'));
    modelDir = join(root, 'model');
    imageFile = join(root, 'image.png');
    await Promise.all([writeFixtureArtifact(modelDir), writeFile(imageFile, png)]);
  }, 60_000);
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  it('serves the newest model of the bucket, captures to the embedded S3, and stops cleanly on SIGTERM', async () => {
    const s3Dir = join(root, 's3');
    const endpoints = join(root, 'endpoints-1');
    const s3 = await startLocalS3({ directory: s3Dir });
    await writeFixtureArtifact('s3://scones/models/job-old/', 'job-old', { AWS_ENDPOINT_URL_S3: s3.endpoint });
    await new Promise((r) => setTimeout(r, 1100)); // S3 LastModified has a resolution of one second
    await writeFixtureArtifact('s3://scones/models/job-new/', 'job-new', { AWS_ENDPOINT_URL_S3: s3.endpoint });
    await s3.stop();

    const deploy = sconesServing(['deploy', '--s3-dir', s3Dir, '--endpoints-dir', endpoints, '--name', 'cli-local', '--json']);
    children.push(deploy.child);
    const result = await deploy.result;
    expect(result).toMatchObject({ ok: true, target: 'local', name: 'cli-local', model: 's3://scones/models/job-new/', captureDestination: 's3://scones/data_capture', pid: deploy.child.pid });
    expect(await new EndpointRegistry({ directory: endpoints }).get('cli-local')).toMatchObject({ url: result.url, pid: deploy.child.pid });

    const invoked = await scones(['invoke', 'cli-local', imageFile, '--endpoints-dir', endpoints, '--json']);
    expect(invoked.code).toBe(0);
    const answer = JSON.parse(invoked.stdout);
    expect(answer).toMatchObject({ ok: true, endpoint: 'cli-local', contentType: 'image/png', variant: 'AllTraffic' });
    expect(answer.probabilities).toHaveLength(2);

    deploy.child.kill('SIGTERM');
    expect(await deploy.exited).toBe(0);
    expect(deploy.stderr()).toContain('cli-local stopped; 1 capture record(s) written, 0 pending');
    expect(await new EndpointRegistry({ directory: endpoints }).list()).toEqual([]);

    const reopened = await startLocalS3({ directory: s3Dir });
    try {
      const reader = createS3Client(reopened.target);
      const keys = [...(await listObjects(reader, 'scones', 'data_capture/cli-local/AllTraffic/')).keys()];
      expect(keys).toHaveLength(1);
      const body = await (await reader.send(new GetObjectCommand({ Bucket: 'scones', Key: keys[0] }))).Body!.transformToString();
      const record = parseOrThrow(dataCaptureRecordSchema, JSON.parse(body.trim()), keys[0]);
      expect(record.captureData.endpointInput.data).toBe(png.toString('base64'));
      expect(JSON.parse(record.captureData.endpointOutput.data)).toEqual(answer.probabilities);
    } finally {
      await reopened.stop();
    }
  }, 90_000);

  it('--detach returns once the endpoint serves; the registry stops it and its capture is written', async () => {
    const endpoints = join(root, 'endpoints-2');
    const captureDir = join(root, 'capture');
    const deployed = await scones(['deploy', '--model', modelDir, '--capture-dir', captureDir, '--endpoints-dir', endpoints, '--name', 'cli-detached', '--detach', '--json']);
    expect(deployed.code).toBe(0);
    const result = JSON.parse(deployed.stdout);
    expect(result).toMatchObject({ ok: true, detached: true, name: 'cli-detached', model: modelDir, log: join(endpoints, 'cli-detached.log') });
    const registry = new EndpointRegistry({ directory: endpoints });
    expect((await registry.get('cli-detached'))?.pid).toBe(result.pid);

    expect((await scones(['invoke', 'cli-detached', imageFile, '--endpoints-dir', endpoints])).code).toBe(0);
    expect((await scones(['invoke', 'cli-detached', imageFile, '--endpoint-url', result.url])).code).toBe(0);
    const again = await scones(['deploy', '--model', modelDir, '--endpoints-dir', endpoints, '--name', 'cli-detached', '--detach']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`endpoint "cli-detached" is already running at ${result.url}`);

    expect(await registry.stop('cli-detached')).toBe(true);
    const files = (await readdir(captureDir, { recursive: true })).filter((f) => f.endsWith('.jsonl'));
    const lines = (await Promise.all(files.map((f) => readFile(join(captureDir, f), 'utf8')))).flatMap((b) => b.trimEnd().split('\n'));
    expect(lines).toHaveLength(2);
    expect(await readFile(result.log, 'utf8')).toContain('cli-detached stopped; 2 capture record(s) written');
  }, 90_000);

  it('names bad input with exit code 2, and a missing endpoint with exit code 1', async () => {
    const cases: Array<[string[], number, string]> = [
      [['deploy', '--name', 'bad_name'], 2, '--name "bad_name": expected 1-63 letters, digits and hyphens'],
      [['deploy', '--target', 'aws', '--job', 'j'], 2, '--bucket is required with --target aws'],
      [['deploy', '--model-data', 's3://b/m.tar.gz'], 2, '--model-data applies to --target aws only'],
      [['deploy', '--sampling', '150'], 2, 'expected a number between 0 and 100'],
      [['deploy', '--model', join(root, 'nothing'), '--capture-dir', join(root, 'c'), '--endpoints-dir', join(root, 'e')], 1, 'manifest.json'],
      [['invoke', 'nobody', imageFile, '--endpoints-dir', join(root, 'none')], 1, 'no local endpoint named "nobody" is running'],
      [['invoke', 'nobody', join(root, 'missing.png')], 2, 'no such file'],
    ];
    for (const [args, code, message] of cases) {
      const run = await scones(args);
      expect({ args, code: run.code }).toEqual({ args, code });
      expect(run.stderr).toContain(message);
    }
  }, 90_000);
});

describe('scones deploy / invoke --target aws', () => {
  const sagemaker = mockClient(SageMakerClient);
  const runtime = mockClient(SageMakerRuntimeClient);
  let stdout: string[];
  const write = process.stdout.write;
  beforeEach(() => {
    sagemaker.reset();
    runtime.reset();
    stdout = [];
    process.stdout.write = ((chunk: string) => stdout.push(String(chunk)) > 0) as typeof process.stdout.write;
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    process.exitCode = undefined;
  });
  afterEach(() => {
    process.stdout.write = write;
    jest.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('creates the model, the endpoint configuration with data capture and the endpoint for a training job', async () => {
    sagemaker.on(DescribeTrainingJobCommand).resolves({
      TrainingJobStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: 's3://my-bucket/models/job-9/output/model.tar.gz' },
      AlgorithmSpecification: { TrainingImage: 'img:1', TrainingInputMode: 'File' },
      RoleArn: 'arn:aws:iam::1:role/r',
    } as never);
    sagemaker
      .on(DescribeEndpointCommand)
      .rejectsOnce(new SageMakerServiceException({ name: 'ValidationException', $fault: 'client', $metadata: {}, message: 'Could not find endpoint "prod".' }))
      .resolves({ EndpointStatus: 'InService', EndpointArn: 'arn:endpoint/prod' } as never);
    await createProgram().parseAsync(['node', 'scones', 'deploy', '--target', 'aws', '--bucket', 'my-bucket', '--job', 'job-9', '--name', 'prod', '--sampling', '50', '--instance-type', 'ml.c5.large', '--json']);
    expect(process.exitCode).toBe(0);
    const model = sagemaker.commandCalls(CreateModelCommand)[0].args[0].input;
    expect(model).toMatchObject({ ExecutionRoleArn: 'arn:aws:iam::1:role/r', PrimaryContainer: { Image: 'img:1', ModelDataUrl: 's3://my-bucket/models/job-9/output/model.tar.gz' } });
    const config = sagemaker.commandCalls(CreateEndpointConfigCommand)[0].args[0].input;
    expect(config.ProductionVariants).toEqual([{ VariantName: 'AllTraffic', ModelName: model.ModelName, InitialInstanceCount: 1, InstanceType: 'ml.c5.large', InitialVariantWeight: 1 }]);
    expect(config.DataCaptureConfig).toMatchObject({ EnableCapture: true, InitialSamplingPercentage: 50, DestinationS3Uri: 's3://my-bucket/data_capture' });
    expect(sagemaker.commandCalls(CreateEndpointCommand)[0].args[0].input).toEqual({ EndpointName: 'prod', EndpointConfigName: config.EndpointConfigName });
    expect(JSON.parse(stdout.join(''))).toMatchObject({ ok: true, target: 'aws', endpointName: 'prod', endpointArn: 'arn:endpoint/prod', status: 'InService', captureDestination: 's3://my-bucket/data_capture' });
  });

  it('invokes a SageMaker endpoint with the exact InvokeEndpoint request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scones-invoke-aws-'));
    try {
      await writeFile(join(dir, 'x.png'), png);
      runtime.on(InvokeEndpointCommand).resolves({ Body: Buffer.from('[0.25,0.75]') as never, InvokedProductionVariant: 'AllTraffic', ContentType: 'application/json' });
      await createProgram().parseAsync(['node', 'scones', 'invoke', 'prod', join(dir, 'x.png'), '--target', 'aws', '--region', 'eu-west-1', '--json']);
      expect(process.exitCode).toBe(0);
      expect(runtime.commandCalls(InvokeEndpointCommand)[0].args[0].input).toEqual({ EndpointName: 'prod', ContentType: 'image/png', Body: png });
      expect(JSON.parse(stdout.join(''))).toMatchObject({ probabilities: [0.25, 0.75], top: 1, variant: 'AllTraffic' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
