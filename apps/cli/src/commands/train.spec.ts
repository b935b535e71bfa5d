import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { cifarFixtureArchive, directorySink, s3Sink, stageCifar } from '@scones/cifar-decoder';
import { encodePng, loadClassifier } from '@scones/image-classifier';
import { bucketTransfer, createS3Client, startLocalS3 } from '@scones/local-cloud';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { modelManifestSchema } from '@scones/payload-schemas';
import { createProgram } from '../program';

// `scones train` as a user runs it (tools/scones.js in a child process), on a small staged set.
const launcher = join(__dirname, '../../../../tools/scones.js');

function scones(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [launcher, 'train', ...args], { timeout: 120_000, env: { ...process.env, SCONES_TFJS_THREADS: '0' } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let root: string;
let staged: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'scones-train-'));
  staged = join(root, 'staged');
  const archive = await cifarFixtureArchive({ trainRows: 48, testRows: 12, classes: ['bicycle', 'motorcycle'] });
  await stageCifar({ source: Readable.from([archive]), sink: directorySink(staged) });
}, 60_000);
afterAll(() => rm(root, { recursive: true, force: true }));

describe('scones train (local)', () => {
  jest.setTimeout(120_000);

  it('trains from a staged directory and writes a complete artifact, reporting in SageMaker style', async () => {
    const out = join(root, 'model');
    const { code, stdout, stderr } = await scones(['--data', staged, '--out', out, '--quick', '--epochs', '2', '--job-name', 'ci-job', '--json']);
    expect(stderr).toMatch(/^Epoch\[0\] Train-accuracy=\d\.\d{3} Validation-accuracy=\d\.\d{3} /m);
    expect(stderr).toMatch(/^Epoch\[1\] /m);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ ok: true, command: 'train', target: 'local', jobName: 'ci-job', location: out, test: { count: 12 } });
    expect(result.test.confusionMatrix.flat().reduce((a: number, b: number) => a + b)).toBe(12);
    expect((await readdir(out)).sort()).toEqual(['manifest.json', 'model.json', 'weights.bin']);
    const manifest = modelManifestSchema.parse(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')));
    expect(manifest).toMatchObject({ jobName: 'ci-job', classNames: ['bicycle', 'motorcycle'], training: { epochs: 2, seed: 42 } });
    expect(result.threshold).toEqual(manifest.threshold);
  });

  it('reads the channels from the embedded S3 and writes models/<job>/ there (the default)', async () => {
    const s3Dir = join(root, 's3');
    const server = await startLocalS3({ directory: s3Dir, buckets: ['scones'] });
    try {
      const archive = await cifarFixtureArchive({ trainRows: 32, testRows: 8, classes: ['bicycle', 'motorcycle'] });
      await stageCifar({ source: Readable.from([archive]), sink: s3Sink(bucketTransfer(createS3Client(server.target), 'scones')) });
    } finally {
      await server.stop();
    }
    const { code, stdout } = await scones(['--s3-dir', s3Dir, '--quick', '--epochs', '1', '--job-name', 's3-job', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, location: 's3://scones/models/s3-job/', test: { count: 8 } });
    const again = await startLocalS3({ directory: s3Dir, buckets: ['scones'] });
    try {
      const classifier = await loadClassifier({ s3: createS3Client(again.target), bucket: 'scones', prefix: 'models/s3-job/' });
      expect(classifier.manifest.jobName).toBe('s3-job');
      const [p] = await classifier.predict([encodePng({ width: 32, height: 32, data: new Uint8Array(32 * 32 * 3).fill(128) })]);
      expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 5);
      classifier.dispose();
    } finally {
      await again.stop();
    }
  });

  it('names the .lst line of a label out of range and exits 1 without an artifact', async () => {
    const bad = join(root, 'bad');
    await stageCifar({ source: Readable.from([await cifarFixtureArchive({ trainRows: 8, testRows: 2, classes: ['bicycle', 'motorcycle'] })]), sink: directorySink(bad) });
    const lst = await readFile(join(bad, 'data/train.lst'), 'utf8');
    const lines = lst.trim().split('\n');
    lines[2] = lines[2].replace(/\t[01]\t/, '\t7\t');
    await writeFile(join(bad, 'data/train.lst'), `${lines.join('\n')}\n`);
    const out = join(root, 'bad-model');
    const { code, stderr } = await scones(['--data', bad, '--out', out, '--quick']);
    expect(code).toBe(1);
    expect(stderr).toContain(`scones train: error: TrainingDataError: ${join(bad, 'data/train.lst')} line 3: label 7 is out of range for 2 classes (bicycle, motorcycle)`);
    expect(existsSync(out)).toBe(false);
  });

  it('stops on Ctrl-C with exit 130 and leaves no artifact', async () => {
    const out = join(root, 'interrupted');
    const child = spawn(process.execPath, [launcher, 'train', '--data', staged, '--out', out, '--quick', '--epochs', '500'], { env: { ...process.env, SCONES_TFJS_THREADS: '0' } });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/Epoch\[0\]/.test(stderr)) resolve();
      }),
    );
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('SIGINT received, stopping');
    expect(existsSync(out)).toBe(false);
    expect((await readdir(root)).filter((n) => n.includes('interrupted'))).toEqual([]);
  });

  it.each([
    [['--data', 'staged', '--classes', 'bicycle'], '--classes: expected at least two comma-separated names'],
    [['--data', 'staged', '--classes', 'a,b,a'], '--classes: "a" appears twice'],
    [['--data', 'staged', '--job-name', 'no spaces please'], '--job-name: job name "no spaces please": expected 1-63 letters, digits and hyphens'],
    [['--target', 'aws'], '--bucket is required with --target aws'],
    [['--target', 'aws', '--bucket', 'b', '--data', 'staged'], '--data and --out are for local training'],
    [['--data', 'staged', '--epochs', '0'], "option '--epochs <n>' argument '0' is invalid"],
  ])('rejects %j with exit 2', async (args, message) => {
    const local = args.includes('--target') ? [] : ['--out', join(root, 'never')];
    const { code, stderr } = await scones([...args.map((a) => (a === 'staged' ? staged : a)), ...local]);
    expect(stderr).toContain(message);
    expect(code).toBe(2);
  });
});

describe('scones train --target aws', () => {
  // Created here, not at module load: the local tests above use real S3 clients.
  let sagemaker: ReturnType<typeof mockClient<SageMakerClient>>;
  let s3: ReturnType<typeof mockClient<S3Client>>;
  let stdout: string;
  let stderr: string;

  beforeAll(() => {
    sagemaker = mockClient(SageMakerClient);
    s3 = mockClient(S3Client);
  });
  afterAll(() => {
    sagemaker.restore();
    s3.restore();
  });
  beforeEach(() => {
    sagemaker.reset();
    s3.reset();
    stdout = '';
    stderr = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function run(args: string[]): Promise<void> {
    await createProgram().parseAsync(['node', 'scones', 'train', '--target', 'aws', ...args]);
  }

  it('creates the original training job from the staged bucket and prints the model artifact URI', async () => {
    const lst = Array.from({ length: 1000 }, (_, i) => `${i}\t${i % 2}\timg_${i}.png`).join('\n');
    s3.on(GetObjectCommand, { Bucket: 'my-bucket', Key: 'data/train.lst' }).resolves({ Body: { transformToString: async () => lst } as never });
    sagemaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:eu-west-1:123456789012:training-job/j' });
    sagemaker.on(DescribeTrainingJobCommand).resolves({
      TrainingJobStatus: 'Completed',
      SecondaryStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: 's3://my-bucket/models/aws-job/output/model.tar.gz' },
    });
    await run(['--bucket', 'my-bucket', '--region', 'eu-west-1', '--role-arn', 'arn:aws:iam::123456789012:role/R', '--job-name', 'aws-job', '--json']);
    expect(process.exitCode).toBe(0);
    const input = sagemaker.commandCalls(CreateTrainingJobCommand)[0].args[0].input;
    expect(input).toMatchObject({
      TrainingJobName: 'aws-job',
      RoleArn: 'arn:aws:iam::123456789012:role/R',
      AlgorithmSpecification: { TrainingImage: '685385470294.dkr.ecr.eu-west-1.amazonaws.com/image-classification:1', TrainingInputMode: 'File' },
      HyperParameters: { image_shape: '3,32,32', num_classes: '2', num_training_samples: '1000', epochs: '30', learning_rate: '0.1', mini_batch_size: '32', num_layers: '152' },
      OutputDataConfig: { S3OutputPath: 's3://my-bucket/models/' },
    });
    expect(input.InputDataConfig!.map((c) => [c.ChannelName, c.ContentType, c.DataSource?.S3DataSource?.S3Uri])).toEqual([
      ['train', 'application/x-image', 's3://my-bucket/data/train/'],
      ['validation', 'application/x-image', 's3://my-bucket/data/test/'],
      ['train_lst', 'application/x-image', 's3://my-bucket/data/train.lst'],
      ['validation_lst', 'application/x-image', 's3://my-bucket/data/test.lst'],
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, target: 'aws', jobName: 'aws-job', modelArtifactUri: 's3://my-bucket/models/aws-job/output/model.tar.gz' });
    expect(stderr).toContain('aws-job: Completed / Completed');
  });

  it("reads the bucket from --stack's BucketName output when --bucket is not given", async () => {
    const cloudformation = mockClient(CloudFormationClient);
    try {
      const outputs = { BucketName: 'stack-bucket', StateMachineArn: 'arn:sm', BatchStateMachineArn: 'arn:bsm', EndpointName: 'e', TopicArn: 'arn:t' };
      cloudformation.on(DescribeStacksCommand).resolves({
        Stacks: [{ StackName: 'Prod', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
      });
      s3.on(GetObjectCommand).rejects(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }));
      await run(['--stack', 'Prod', '--region', 'eu-west-1', '--role-arn', 'arn:aws:iam::123456789012:role/R']);
      expect(cloudformation.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input)).toEqual([{ StackName: 'Prod' }]);
      expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toEqual({ Bucket: 'stack-bucket', Key: 'data/train.lst' });
      expect(stderr).toContain('cannot read s3://stack-bucket/data/train.lst');
      expect(process.exitCode).toBe(1);
    } finally {
      cloudformation.restore();
    }
  });

  it('refuses --stack with the local target', async () => {
    await createProgram().parseAsync(['node', 'scones', 'train', '--stack', 'Prod', '--data', 'x']);
    expect(process.exitCode).toBe(2);
    expect(stderr).toContain('--stack applies to --target aws only');
  });

  it('requires a role and a staged train.lst', async () => {
    await run(['--bucket', 'my-bucket', '--region', 'eu-west-1']);
    expect(process.exitCode).toBe(2);
    expect(stderr).toContain('--role-arn (or SCONES_SAGEMAKER_ROLE_ARN) is required with --target aws');
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }));
    await run(['--bucket', 'my-bucket', '--region', 'eu-west-1', '--role-arn', 'arn:aws:iam::123456789012:role/R']);
    expect(process.exitCode).toBe(1);
    expect(stderr).toContain('cannot read s3://my-bucket/data/train.lst (stage the data first');
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
  });
});
