import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  StopTrainingJobCommand,
  waitUntilEndpointInService,
  waitUntilTrainingJobCompletedOrStopped,
  type CreateTrainingJobCommandInput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { extract as tarExtract } from 'tar-stream';
import { createTrainingJobRequest } from '@scones/image-classifier';
import { startTestStack, type TestStack } from '../../testing';
import { BUILTIN_IMAGE, createBucket, environmentClients, eventually, listKeys, png, putObject, putTinyDataset, ROLE, useSdkEnvironment } from '../../../test/sagemaker-kit';

jest.setTimeout(240_000);

/** The names of a tar.gz's members. */
async function tarMembers(gz: Uint8Array): Promise<string[]> {
  const extract = tarExtract();
  const names: string[] = [];
  extract.end(gunzipSync(gz));
  for await (const entry of extract) {
    names.push(entry.header.name);
    entry.resume();
  }
  return names.sort();
}

describe('SageMaker training jobs run by the project trainer', () => {
  let dataDir: string;
  let stack: TestStack;
  let sagemaker: SageMakerClient;
  let runtime: SageMakerRuntimeClient;
  let s3: S3Client;
  let logs: CloudWatchLogsClient;
  let restore: () => void;

  /** The course notebook's request: four channels, the algorithm's hyperparameters. */
  const courseRequest = (name: string, hyperParameters: Record<string, string>): CreateTrainingJobCommandInput => {
    const channel = (channelName: string, uri: string) => ({
      ChannelName: channelName,
      ContentType: 'application/x-image',
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: uri, S3DataDistributionType: 'FullyReplicated' as const } },
    });
    return {
      TrainingJobName: name,
      RoleArn: ROLE,
      AlgorithmSpecification: { TrainingImage: BUILTIN_IMAGE, TrainingInputMode: 'File' },
      HyperParameters: hyperParameters,
      InputDataConfig: [channel('train', 's3://course/train/'), channel('validation', 's3://course/test/'), channel('train_lst', 's3://course/train.lst'), channel('validation_lst', 's3://course/test.lst')],
      OutputDataConfig: { S3OutputPath: 's3://course/models' },
      ResourceConfig: { InstanceType: 'ml.p3.2xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    };
  };
  const describe_ = (name: string) => sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scones-train-'));
    stack = await startTestStack({ services: ['s3', 'logs', 'sagemaker', 'sagemaker-runtime'], dataDir });
    restore = useSdkEnvironment(stack.context.sdkEnvironment());
    ({ sagemaker, runtime, s3 } = environmentClients());
    logs = new CloudWatchLogsClient({ maxAttempts: 1 });
    await createBucket(s3, 'course');
    await putTinyDataset(s3, 'course', '');
    await createBucket(s3, 'project');
    await putTinyDataset(s3, 'project', 'data/');
  });
  afterAll(async () => {
    for (const c of [sagemaker, runtime, s3, logs]) c.destroy();
    restore();
    await stack.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('trains on the course channels, reports metrics and transitions, writes model.tar.gz that deploys', async () => {
    const name = 'course-job';
    await sagemaker.send(
      new CreateTrainingJobCommand(
        courseRequest(name, { image_shape: '3,32,32', num_classes: '2', num_training_samples: '24', epochs: '1', num_layers: '152', scones_preset: 'quick', scones_class_names: 'dark,bright' }),
      ),
    );
    const waited = await waitUntilTrainingJobCompletedOrStopped({ client: sagemaker, minDelay: 1, maxDelay: 2, maxWaitTime: 200 }, { TrainingJobName: name });
    expect(waited.state).toBe('SUCCESS');
    const job = await describe_(name);
    expect(job).toMatchObject({
      TrainingJobStatus: 'Completed',
      SecondaryStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: `s3://course/models/${name}/output/model.tar.gz` },
      HyperParameters: { num_layers: '152', epochs: '1' },
      AlgorithmSpecification: { TrainingImage: BUILTIN_IMAGE, TrainingInputMode: 'File' },
      ResourceConfig: { InstanceType: 'ml.p3.2xlarge' },
    });
    expect(job.SecondaryStatusTransitions?.map((t) => t.Status)).toEqual(['Starting', 'Downloading', 'Training', 'Uploading', 'Completed']);
    expect(job.SecondaryStatusTransitions?.every((t) => t.EndTime instanceof Date)).toBe(true);
    const metrics = Object.fromEntries((job.FinalMetricDataList ?? []).map((m) => [m.MetricName, m.Value]));
    expect(metrics['train:accuracy']).toBeGreaterThanOrEqual(0);
    // The validation channel (8 images) is evaluated once after training.
    expect(metrics['validation:accuracy']).toBeGreaterThanOrEqual(0);
    expect(metrics['validation:accuracy']! * 8).toBeCloseTo(Math.round(metrics['validation:accuracy']! * 8), 5);
    expect(job.TrainingTimeInSeconds).toBeGreaterThanOrEqual(1);

    const artifact = await s3.send(new GetObjectCommand({ Bucket: 'course', Key: `models/${name}/output/model.tar.gz` }));
    expect(await tarMembers(await artifact.Body!.transformToByteArray())).toEqual(['manifest.json', 'model.json', 'weights.bin']);

    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/sagemaker/TrainingJobs', logStreamNamePrefix: `${name}/` }));
    expect(streams.logStreams).toHaveLength(1);
    const events = await logs.send(new GetLogEventsCommand({ logGroupName: '/aws/sagemaker/TrainingJobs', logStreamName: streams.logStreams![0].logStreamName!, startFromHead: true }));
    const text = (events.events ?? []).map((e) => e.message).join('\n');
    expect(text).toMatch(/Epoch\[0\] Train-accuracy=\d/);
    expect(text).toMatch(/Epoch\[0\] Validation-accuracy=\d/);
    expect(text).toContain('Hyperparameter not honoured by the local trainer: num_layers=152');

    await sagemaker.send(new CreateModelCommand({ ModelName: 'trained', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: job.AlgorithmSpecification!.TrainingImage!, ModelDataUrl: job.ModelArtifacts!.S3ModelArtifacts! } }));
    await sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'trained', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'trained', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }] }));
    await sagemaker.send(new CreateEndpointCommand({ EndpointName: 'trained', EndpointConfigName: 'trained' }));
    await waitUntilEndpointInService({ client: sagemaker, minDelay: 1, maxDelay: 1, maxWaitTime: 120 }, { EndpointName: 'trained' });
    const answer = await runtime.send(new InvokeEndpointCommand({ EndpointName: 'trained', ContentType: 'image/png', Body: png(200, 99) }));
    expect(JSON.parse(Buffer.from(answer.Body!).toString())).toHaveLength(2);
  });

  it("runs the project's own --target aws request (createTrainingJobRequest) against the stack", async () => {
    const request = createTrainingJobRequest({ jobName: 'project-job', roleArn: ROLE, region: 'eu-west-1', bucket: 'project', numClasses: 2, numTrainingSamples: 24, epochs: 1 });
    request.HyperParameters = { ...request.HyperParameters, scones_preset: 'quick' };
    await sagemaker.send(new CreateTrainingJobCommand(request));
    await waitUntilTrainingJobCompletedOrStopped({ client: sagemaker, minDelay: 1, maxDelay: 2, maxWaitTime: 200 }, { TrainingJobName: 'project-job' });
    const job = await describe_('project-job');
    expect(job).toMatchObject({ TrainingJobStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: 's3://project/models/project-job/output/model.tar.gz' } });
  });

  it('stops a running job cleanly: Stopping, then Stopped, and no model', async () => {
    const name = 'long-job';
    await sagemaker.send(new CreateTrainingJobCommand(courseRequest(name, { num_classes: '2', num_training_samples: '24', epochs: '500', scones_preset: 'quick' })));
    await eventually(async () => ((await describe_(name)).SecondaryStatus === 'Training' ? true : undefined), 120_000, 'job training');
    await sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: name }));
    expect((await describe_(name)).TrainingJobStatus).toMatch(/^(Stopping|Stopped)$/);
    const waited = await waitUntilTrainingJobCompletedOrStopped({ client: sagemaker, minDelay: 1, maxDelay: 1, maxWaitTime: 90 }, { TrainingJobName: name });
    expect(waited.state).toBe('SUCCESS');
    const job = await describe_(name);
    expect(job).toMatchObject({ TrainingJobStatus: 'Stopped', SecondaryStatus: 'Stopped' });
    expect(job.ModelArtifacts).toBeUndefined();
    expect(job.SecondaryStatusTransitions?.map((t) => t.Status)).toEqual(['Starting', 'Downloading', 'Training', 'Stopping', 'Stopped']);
    expect(await listKeys(s3, 'course', `models/${name}/`)).toEqual([]);
  });

  it('fails a job on bad data, naming the file', async () => {
    await putObject(s3, 'course', 'bad.lst', '0\t7\tdark_train_0.png\n');
    const request = courseRequest('bad-data', { num_classes: '2', num_training_samples: '1', epochs: '1', scones_preset: 'quick' });
    request.InputDataConfig = request.InputDataConfig!.filter((c) => c.ChannelName?.startsWith('train'));
    request.InputDataConfig[1].DataSource!.S3DataSource!.S3Uri = 's3://course/bad.lst';
    await sagemaker.send(new CreateTrainingJobCommand(request));
    const waited = await waitUntilTrainingJobCompletedOrStopped({ client: sagemaker, minDelay: 1, maxDelay: 1, maxWaitTime: 120 }, { TrainingJobName: 'bad-data' }).catch((e: unknown) => e);
    expect(waited).toBeInstanceOf(Error);
    expect((await describe_('bad-data')).FailureReason).toMatch(/^ClientError: .*train\.lst line 1: label 7 is out of range for 2 classes/);
  });

  it('marks a job that was running when the stack stopped as Failed, as SageMaker reports a lost instance', async () => {
    const name = 'interrupted-job';
    await sagemaker.send(new CreateTrainingJobCommand(courseRequest(name, { num_classes: '2', num_training_samples: '24', epochs: '500', scones_preset: 'quick' })));
    await eventually(async () => ((await describe_(name)).SecondaryStatus === 'Training' ? true : undefined), 120_000, 'job training');
    await stack.close();
    stack = await startTestStack({ services: ['s3', 'logs', 'sagemaker', 'sagemaker-runtime'], dataDir });
    restore();
    restore = useSdkEnvironment(stack.context.sdkEnvironment());
    for (const c of [sagemaker, runtime, s3, logs]) c.destroy();
    ({ sagemaker, runtime, s3 } = environmentClients());
    logs = new CloudWatchLogsClient({ maxAttempts: 1 });
    const job = await describe_(name);
    expect(job).toMatchObject({ TrainingJobStatus: 'Failed', SecondaryStatus: 'Failed', FailureReason: expect.stringMatching(/^InternalServerError: .*training instance was lost/) });
    expect((await describe_('course-job')).TrainingJobStatus).toBe('Completed');
    expect(await listKeys(s3, 'course', `models/${name}/`)).toEqual([]);
  });
});
