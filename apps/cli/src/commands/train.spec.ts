import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTrainingJobCommand, ListTrainingJobsCommand } from '@aws-sdk/client-sagemaker';
import { cifarFixtureArchive, directorySink, stageCifar } from '@scones/cifar-decoder';
import { artifactAtUrl, readManifest } from '@scones/image-classifier';
import { modelManifestSchema } from '@scones/payload-schemas';
import { mockClient } from 'aws-sdk-client-mock';
import { scones as sconesCli, sconesProcess, waitFor } from '../../test/run-cli';
import { awsTargetEnv, down, ensureBucket, putObject, stackClients, upDetached, type RunningStack } from '../../test/stack-kit';
import { createProgram } from '../program';

// `scones train` as a user runs it (tools/scones.js in child processes): in this process from a
// staged directory (--data/--out), and as a training job on the local stack (CreateTrainingJob,
// the job's log followed through CloudWatch Logs) — also with --target aws pointed at the stack
// by the environment `scones env` prints. Only CloudFormation (for --stack) is mocked.
jest.setTimeout(240_000);

const BUILTIN_IMAGE = '811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1';
const ROLE = 'arn:aws:iam::000000000000:role/x';

/** `scones train <args>`; in-process training uses one thread, to share a busy machine. */
const scones = (args: string[], env: Record<string, string | undefined> = {}) => sconesCli(['train', ...args], { SCONES_TFJS_THREADS: '0', ...env }, 200_000);

let root: string;
let staged: string;
/** A small CIFAR-100-layout archive: 48 training and 12 test rows of bicycles and motorcycles. */
let archive: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'scones-train-'));
  staged = join(root, 'staged');
  const bytes = await cifarFixtureArchive({ trainRows: 48, testRows: 12, classes: ['bicycle', 'motorcycle'] });
  archive = join(root, 'fixture.tar.gz');
  await writeFile(archive, bytes);
  await stageCifar({ source: Readable.from([bytes]), sink: directorySink(staged) });
}, 60_000);
afterAll(() => rm(root, { recursive: true, force: true }));

describe('scones train --data <dir> --out <dir> (in this process)', () => {
  it('trains from a staged directory and writes a complete artifact, reporting in SageMaker style', async () => {
    const out = join(root, 'model');
    const { code, stdout, stderr } = await scones(['--data', staged, '--out', out, '--quick', '--epochs', '2', '--job-name', 'ci-job', '--json']);
    expect(stderr).toMatch(/^Epoch\[0\] Train-accuracy=\d\.\d{3} Validation-accuracy=\d\.\d{3} /m);
    expect(stderr).toMatch(/^Epoch\[1\] /m);
    expect(stderr).not.toContain('started a local stack'); // no stack for directories
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ ok: true, command: 'train', target: 'local', jobName: 'ci-job', location: out, test: { count: 12 } });
    expect(result.test.confusionMatrix.flat().reduce((a: number, b: number) => a + b)).toBe(12);
    expect((await readdir(out)).sort()).toEqual(['manifest.json', 'model.json', 'weights.bin']);
    const manifest = modelManifestSchema.parse(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')));
    expect(manifest).toMatchObject({ jobName: 'ci-job', classNames: ['bicycle', 'motorcycle'], training: { epochs: 2, seed: 42 } });
    expect(result.threshold).toEqual(manifest.threshold);
  });

  it('names the .lst line of a label out of range and exits 1 without an artifact', async () => {
    const bad = join(root, 'bad');
    await stageCifar({ source: Readable.from([await cifarFixtureArchive({ trainRows: 8, testRows: 2, classes: ['bicycle', 'motorcycle'] })]), sink: directorySink(bad) });
    const lines = (await readFile(join(bad, 'data/train.lst'), 'utf8')).trim().split('\n');
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
    const child = spawn(process.execPath, [join(__dirname, '../../../../tools/scones.js'), 'train', '--data', staged, '--out', out, '--quick', '--epochs', '500'], { env: { ...process.env, SCONES_TFJS_THREADS: '0' } });
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
    [['--data', 'STAGED', '--out', 'OUT', '--classes', 'bicycle'], '--classes: expected at least two comma-separated names'],
    [['--data', 'STAGED', '--out', 'OUT', '--classes', 'a,b,a'], '--classes: "a" appears twice'],
    [['--data', 'STAGED', '--out', 'OUT', '--job-name', 'no spaces please'], '--job-name: job name "no spaces please": expected 1-63 letters, digits and hyphens'],
    [['--data', 'STAGED', '--out', 'OUT', '--epochs', '0'], "option '--epochs <n>' argument '0' is invalid"],
    [['--data', 'STAGED'], '--data and --out go together'],
    [['--stack', 'Prod', '--data', 'STAGED', '--out', 'OUT'], '--stack applies to --target aws only'],
    [['--target', 'aws', '--bucket', 'b', '--data', 'STAGED', '--out', 'OUT'], '--data and --out train from and to directories in this process; leave out --target aws'],
    [['--target', 'aws'], '--bucket is required with --target aws'],
    [['--target', 'aws', '--bucket', 'b', '--quick'], "--quick applies to the local stack's trainer only"],
    [['--target', 'aws', '--bucket', 'b', '--seed', '7'], "--seed applies to the local stack's trainer only"],
    [['--target', 'aws', '--bucket', 'b'], '--role-arn (or SCONES_SAGEMAKER_ROLE_ARN) is required with --target aws'],
  ])('rejects %j with exit 2, starting nothing', async (args, message) => {
    const dataDir = join(root, 'never-started');
    const out = join(root, 'never');
    const { code, stderr } = await scones([...args.map((a) => (a === 'STAGED' ? staged : a === 'OUT' ? out : a)), '--data-dir', dataDir], { SCONES_SAGEMAKER_ROLE_ARN: undefined });
    expect(stderr).toContain(message);
    expect(code).toBe(2);
    expect(stderr).not.toContain('started a local stack');
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(out)).toBe(false);
  });
});

describe('scones train on the local stack', () => {
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

  /** `scones stage` of the fixture archive into the stack's bucket under `prefix`. */
  async function stage(prefix: string): Promise<void> {
    const staging = await sconesCli(['stage', '--source', archive, '--data-prefix', prefix, '--data-dir', stack.dataDir, '--json']);
    expect({ code: staging.code, stderr: staging.code === 0 ? '' : staging.stderr }).toEqual({ code: 0, stderr: '' });
  }

  it('runs a training job on the staged data: epoch lines through CloudWatch Logs, the model at models/<job>/output/model.tar.gz, test figures', async () => {
    await stage('train-data/');
    const { code, stdout, stderr } = await scones(['--data-prefix', 'train-data/', '--quick', '--epochs', '1', '--job-name', 'cli-stack-job', '--data-dir', stack.dataDir, '--json']);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(stderr).toContain(`scones train: training job cli-stack-job on the local stack (${stack.url}): quick preset, seed 42, 48 training images, classes bicycle, motorcycle`);
    // The trainer's epoch lines, as the job's CloudWatch log carries them (SageMaker's format).
    expect(stderr).toMatch(/^ {2}\[[^\]]+\] Epoch\[0\] Train-accuracy=\d\.\d+$/m);
    expect(stderr).toMatch(/^ {2}\[[^\]]+\] Epoch\[0\] Validation-accuracy=\d\.\d+$/m);
    expect(stderr).toContain('cli-stack-job: Completed / Completed');

    const location = 's3://scones/models/cli-stack-job/output/model.tar.gz';
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ ok: true, command: 'train', target: 'local', jobName: 'cli-stack-job', location, bestEpoch: 0, classNames: ['bicycle', 'motorcycle'], test: { count: 12 } });
    expect(result.test.confusionMatrix.flat().reduce((a: number, b: number) => a + b)).toBe(12);
    expect(result.metrics['validation:accuracy']).toBeGreaterThanOrEqual(0);

    const job = await clients.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'cli-stack-job' }));
    expect(job).toMatchObject({ TrainingJobStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: location }, AlgorithmSpecification: { TrainingImage: BUILTIN_IMAGE } });
    expect(job.HyperParameters).toMatchObject({ scones_preset: 'quick', scones_class_names: 'bicycle,motorcycle', num_classes: '2', num_training_samples: '48', epochs: '1' });
    expect(job.InputDataConfig?.map((c) => [c.ChannelName, c.DataSource?.S3DataSource?.S3Uri])).toEqual([
      ['train', 's3://scones/train-data/train/'],
      ['validation', 's3://scones/train-data/test/'],
      ['train_lst', 's3://scones/train-data/train.lst'],
      ['validation_lst', 's3://scones/train-data/test.lst'],
    ]);
    // The artifact is the one the command reported on.
    const manifest = await readManifest(artifactAtUrl(clients.s3, location));
    expect(manifest).toMatchObject({ jobName: 'cli-stack-job', classNames: ['bicycle', 'motorcycle'], training: { epochs: 1 } });
    expect(manifest.threshold).toEqual(result.threshold);
  });

  it('--target aws, pointed at the stack by the environment of `scones env`: the built-in algorithm\'s job, as sent to SageMaker', async () => {
    await stage('aws-data/');
    const { code, stdout, stderr } = await scones(['--target', 'aws', '--bucket', 'scones', '--data-prefix', 'aws-data/', '--role-arn', ROLE, '--epochs', '1', '--job-name', 'cli-aws-job', '--json'], awsTargetEnv(stack));
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(stderr).toContain(`scones train: training job cli-aws-job on SageMaker in us-east-1: ${BUILTIN_IMAGE}, 48 training images`);
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, target: 'aws', jobName: 'cli-aws-job', location: 's3://scones/models/cli-aws-job/output/model.tar.gz' });

    const job = await clients.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'cli-aws-job' }));
    expect(job).toMatchObject({ TrainingJobStatus: 'Completed', RoleArn: ROLE, AlgorithmSpecification: { TrainingImage: BUILTIN_IMAGE, TrainingInputMode: 'File' }, OutputDataConfig: { S3OutputPath: 's3://scones/models/' } });
    // The algorithm's hyperparameters as the course's notebook sets them, and no local extension
    // (SageMaker's algorithm refuses hyperparameters it does not know).
    expect(job.HyperParameters).toEqual({ image_shape: '3,32,32', num_layers: '152', epochs: '1', learning_rate: '0.1', mini_batch_size: '32', num_classes: '2', num_training_samples: '48' });
    expect(job.InputDataConfig?.map((c) => [c.ChannelName, c.ContentType, c.DataSource?.S3DataSource?.S3Uri])).toEqual([
      ['train', 'application/x-image', 's3://scones/aws-data/train/'],
      ['validation', 'application/x-image', 's3://scones/aws-data/test/'],
      ['train_lst', 'application/x-image', 's3://scones/aws-data/train.lst'],
      ['validation_lst', 'application/x-image', 's3://scones/aws-data/test.lst'],
    ]);
    expect(job.ResourceConfig).toMatchObject({ InstanceType: 'ml.p3.2xlarge', InstanceCount: 1 });
  });

  it('stops the training job on Ctrl-C (StopTrainingJob) and exits 130', async () => {
    await stage('stop-data/');
    const train = sconesProcess(['train', '--data-prefix', 'stop-data/', '--quick', '--epochs', '200', '--job-name', 'cli-stopped-job', '--data-dir', stack.dataDir]);
    try {
      await waitFor(() => /Epoch\[0\]/.test(train.output().stderr) || (train.child.exitCode !== null ? Promise.reject(new Error(train.output().stderr)) : undefined), { timeoutMs: 180_000, what: 'the first epoch' });
      train.child.kill('SIGINT');
      expect(await train.exited).toBe(130);
    } finally {
      if (train.child.exitCode === null) train.child.kill('SIGKILL');
    }
    const job = await waitFor(
      async () => {
        const described = await clients.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'cli-stopped-job' }));
        return described.TrainingJobStatus === 'Stopped' ? described : undefined;
      },
      { timeoutMs: 60_000, what: 'the job to stop' },
    );
    expect(job.ModelArtifacts?.S3ModelArtifacts ?? null).toBeNull();
  });

  it('names bad data in the bucket and exits 1 without creating a job', async () => {
    await ensureBucket(clients.s3, 'scones');
    await putObject(clients.s3, 'scones', 'bad-data/train.lst', '0\t0\ta.png\n1\t7\tb.png\n');
    const jobs = async () => (await clients.sagemaker.send(new ListTrainingJobsCommand({ MaxResults: 100 }))).TrainingJobSummaries?.map((j) => j.TrainingJobName) ?? [];

    const label = await scones(['--data-prefix', 'bad-data/', '--quick', '--job-name', 'cli-bad-label', '--data-dir', stack.dataDir]);
    expect(label.code).toBe(1);
    expect(label.stderr).toContain('scones train: error: TrainingError: s3://scones/bad-data/train.lst: label 7 (b.png) is out of range for 2 classes');

    const missing = await scones(['--data-prefix', 'nothing-here/', '--quick', '--job-name', 'cli-no-data', '--data-dir', stack.dataDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read s3://scones/nothing-here/train.lst (stage the data first: scones stage)');

    const aws = await scones(['--target', 'aws', '--bucket', 'scones', '--data-prefix', 'nothing-here/', '--role-arn', ROLE, '--job-name', 'cli-aws-no-data'], awsTargetEnv(stack));
    expect(aws.code).toBe(1);
    expect(aws.stderr).toContain('cannot read s3://scones/nothing-here/train.lst (stage the data first: scones stage --target aws --bucket scones)');

    expect((await jobs()).filter((name) => ['cli-bad-label', 'cli-no-data', 'cli-aws-no-data'].includes(name ?? ''))).toEqual([]);
  });

  it("--target aws --stack reads the bucket from the stack's BucketName output (CloudFormation mocked)", async () => {
    const saved: Record<string, string | undefined> = {};
    for (const [key, value] of Object.entries(awsTargetEnv(stack))) {
      saved[key] = process.env[key];
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    let stderr = '';
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
    const cloudformation = mockClient(CloudFormationClient);
    try {
      const outputs = { BucketName: 'stack-bucket', StateMachineArn: 'arn:sm', BatchStateMachineArn: 'arn:bsm', EndpointName: 'e', TopicArn: 'arn:t' };
      cloudformation.on(DescribeStacksCommand).resolves({
        Stacks: [{ StackName: 'Prod', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
      });
      await ensureBucket(clients.s3, 'stack-bucket');
      await createProgram().parseAsync(['node', 'scones', 'train', '--target', 'aws', '--stack', 'Prod', '--role-arn', ROLE, '--job-name', 'cli-stack-bucket']);
      expect(cloudformation.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input)).toEqual([{ StackName: 'Prod' }]);
      // The stack's bucket is read (it holds no staged data: the command stops there).
      expect(stderr).toContain('cannot read s3://stack-bucket/data/train.lst (stage the data first: scones stage --target aws --bucket stack-bucket)');
      expect(process.exitCode).toBe(1);
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
