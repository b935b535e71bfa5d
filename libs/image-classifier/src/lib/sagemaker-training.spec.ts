import { CreateTrainingJobCommand, DescribeTrainingJobCommand, SageMakerClient, StopTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { imageClassificationImageUri } from './algorithm-images';
import { createTrainingJobRequest, runSageMakerTrainingJob } from './sagemaker-training';

const OPTIONS = {
  jobName: 'scones-image-classification-2024-01-01-00-00-00-000',
  roleArn: 'arn:aws:iam::123456789012:role/SconesSageMaker',
  region: 'us-east-1',
  bucket: 'my-bucket',
  numClasses: 2,
  numTrainingSamples: 1000,
};

// The exact request of the original workflow (the Udacity starter's Estimator.fit()).
const EXPECTED_REQUEST = {
  TrainingJobName: 'scones-image-classification-2024-01-01-00-00-00-000',
  RoleArn: 'arn:aws:iam::123456789012:role/SconesSageMaker',
  AlgorithmSpecification: { TrainingImage: '811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1', TrainingInputMode: 'File' },
  HyperParameters: {
    image_shape: '3,32,32',
    num_layers: '152',
    epochs: '30',
    learning_rate: '0.1',
    mini_batch_size: '32',
    num_classes: '2',
    num_training_samples: '1000',
  },
  InputDataConfig: [
    ['train', 's3://my-bucket/data/train/'],
    ['validation', 's3://my-bucket/data/test/'],
    ['train_lst', 's3://my-bucket/data/train.lst'],
    ['validation_lst', 's3://my-bucket/data/test.lst'],
  ].map(([name, uri]) => ({
    ChannelName: name,
    ContentType: 'application/x-image',
    CompressionType: 'None',
    InputMode: 'File',
    DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: uri, S3DataDistributionType: 'FullyReplicated' } },
  })),
  OutputDataConfig: { S3OutputPath: 's3://my-bucket/models/' },
  ResourceConfig: { InstanceType: 'ml.p3.2xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
  StoppingCondition: { MaxRuntimeInSeconds: 3600 },
};

describe('SageMaker training job', () => {
  const sagemaker = mockClient(SageMakerClient);
  beforeEach(() => sagemaker.reset());

  it('uses the region’s built-in image-classification image', () => {
    expect(imageClassificationImageUri('eu-west-1')).toBe('685385470294.dkr.ecr.eu-west-1.amazonaws.com/image-classification:1');
    expect(imageClassificationImageUri('cn-north-1')).toBe('390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/image-classification:1');
    expect(() => imageClassificationImageUri('mars-1')).toThrow('the built-in image-classification algorithm is not offered in region "mars-1"');
  });

  it('builds the original request; --epochs overrides only the epochs', () => {
    expect(createTrainingJobRequest(OPTIONS)).toEqual(EXPECTED_REQUEST);
    expect(createTrainingJobRequest({ ...OPTIONS, epochs: 5, instanceType: 'ml.g4dn.xlarge' })).toMatchObject({
      HyperParameters: { ...EXPECTED_REQUEST.HyperParameters, epochs: '5' },
      ResourceConfig: { InstanceType: 'ml.g4dn.xlarge' },
    });
  });

  it('creates the job, reports status changes while polling and returns the model artifact URI', async () => {
    const uri = 's3://my-bucket/models/scones-image-classification-2024-01-01-00-00-00-000/output/model.tar.gz';
    sagemaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:job' });
    sagemaker
      .on(DescribeTrainingJobCommand)
      .resolvesOnce({ TrainingJobStatus: 'InProgress', SecondaryStatus: 'Starting' })
      .resolvesOnce({ TrainingJobStatus: 'InProgress', SecondaryStatus: 'Starting' })
      .resolvesOnce({ TrainingJobStatus: 'InProgress', SecondaryStatus: 'Training' })
      .resolves({
        TrainingJobStatus: 'Completed',
        SecondaryStatus: 'Completed',
        ModelArtifacts: { S3ModelArtifacts: uri },
        BillableTimeInSeconds: 240,
        FinalMetricDataList: [{ MetricName: 'validation:accuracy', Value: 0.849 }],
      });
    const statuses: string[] = [];
    const result = await runSageMakerTrainingJob(new SageMakerClient({ region: 'us-east-1' }), createTrainingJobRequest(OPTIONS), {
      pollIntervalMs: 1,
      onStatus: (s) => statuses.push(`${s.status}/${s.secondaryStatus}`),
    });
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)[0].args[0].input).toEqual(EXPECTED_REQUEST);
    expect(sagemaker.commandCalls(DescribeTrainingJobCommand)).toHaveLength(4);
    expect(statuses).toEqual(['InProgress/Starting', 'InProgress/Training', 'Completed/Completed']);
    expect(result).toMatchObject({ modelArtifactUri: uri, billableSeconds: 240, metrics: { 'validation:accuracy': 0.849 } });
  });

  it('reports a failed job with its reason and a refused request with the service error', async () => {
    sagemaker.on(CreateTrainingJobCommand).resolves({});
    sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'Failed', FailureReason: 'ClientError: no train.lst' });
    await expect(runSageMakerTrainingJob(new SageMakerClient({ region: 'us-east-1' }), createTrainingJobRequest(OPTIONS), { pollIntervalMs: 1 })).rejects.toThrow(
      'training job scones-image-classification-2024-01-01-00-00-00-000 failed: ClientError: no train.lst',
    );
    sagemaker.on(CreateTrainingJobCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    await expect(runSageMakerTrainingJob(new SageMakerClient({ region: 'us-east-1' }), createTrainingJobRequest(OPTIONS))).rejects.toThrow(
      'CreateTrainingJob scones-image-classification-2024-01-01-00-00-00-000: AccessDeniedException: User is not authorized',
    );
  });

  it('stops the job when interrupted while waiting', async () => {
    sagemaker.on(CreateTrainingJobCommand).resolves({});
    sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'InProgress', SecondaryStatus: 'Training' });
    sagemaker.on(StopTrainingJobCommand).resolves({});
    const controller = new AbortController();
    const run = runSageMakerTrainingJob(new SageMakerClient({ region: 'us-east-1' }), createTrainingJobRequest(OPTIONS), {
      signal: controller.signal,
      pollIntervalMs: 60_000,
      onStatus: () => setImmediate(() => controller.abort(new Error('interrupted by SIGINT'))),
    });
    await expect(run).rejects.toThrow('interrupted by SIGINT');
    expect(sagemaker.commandCalls(StopTrainingJobCommand)[0].args[0].input).toEqual({ TrainingJobName: OPTIONS.jobName });
  });
});
