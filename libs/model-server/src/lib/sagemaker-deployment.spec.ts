import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
  SageMakerServiceException,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { deployToSageMaker, SageMakerDeploymentError } from './sagemaker-deployment';

const sagemaker = mockClient(SageMakerClient);
const client = new SageMakerClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const now = () => new Date(Date.UTC(2026, 4, 6, 7, 8, 9));
const JOB = 'image-classification-2026-05-01-10-00-00-000';
const IMAGE = '811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1';
const ROLE = 'arn:aws:iam::123456789012:role/SageMakerRole';
const ARTIFACT = `s3://scones-bucket/models/${JOB}/output/model.tar.gz`;

const notFound = () =>
  new SageMakerServiceException({ name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Could not find endpoint "scones-endpoint".' });

function trainingJob(status = 'Completed') {
  return {
    TrainingJobName: JOB,
    TrainingJobStatus: status,
    ModelArtifacts: { S3ModelArtifacts: ARTIFACT },
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
    RoleArn: ROLE,
  } as never;
}

const EXPECTED_CAPTURE = {
  EnableCapture: true,
  InitialSamplingPercentage: 100,
  DestinationS3Uri: 's3://scones-bucket/data_capture',
  CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
  CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
};

describe('deployToSageMaker', () => {
  beforeEach(() => sagemaker.reset());

  it("deploys a training job's artifact: exact CreateModel, CreateEndpointConfig and CreateEndpoint requests, then waits for InService", async () => {
    sagemaker.on(DescribeTrainingJobCommand).resolves(trainingJob());
    sagemaker.on(CreateModelCommand).resolves({ ModelArn: 'arn:model' });
    sagemaker.on(CreateEndpointConfigCommand).resolves({ EndpointConfigArn: 'arn:config' });
    sagemaker.on(CreateEndpointCommand).resolves({ EndpointArn: 'arn:endpoint' });
    sagemaker
      .on(DescribeEndpointCommand)
      .rejectsOnce(notFound())
      .resolvesOnce({ EndpointStatus: 'Creating' } as never)
      .resolves({ EndpointStatus: 'InService', EndpointArn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/scones-endpoint' } as never);
    const progress: string[] = [];

    const result = await deployToSageMaker(client, { endpointName: 'scones-endpoint', bucket: 'scones-bucket', trainingJobName: JOB, now, pollIntervalMs: 1, onProgress: (m) => progress.push(m) });

    expect(sagemaker.commandCalls(DescribeTrainingJobCommand)[0].args[0].input).toEqual({ TrainingJobName: JOB });
    expect(sagemaker.commandCalls(CreateModelCommand).map((c) => c.args[0].input)).toEqual([
      { ModelName: 'scones-endpoint-20260506-070809', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE, ModelDataUrl: ARTIFACT } },
    ]);
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand).map((c) => c.args[0].input)).toEqual([
      {
        EndpointConfigName: 'scones-endpoint-20260506-070809',
        ProductionVariants: [
          { VariantName: 'AllTraffic', ModelName: 'scones-endpoint-20260506-070809', InitialInstanceCount: 1, InstanceType: 'ml.m5.large', InitialVariantWeight: 1 },
        ],
        DataCaptureConfig: EXPECTED_CAPTURE,
      },
    ]);
    expect(sagemaker.commandCalls(CreateEndpointCommand).map((c) => c.args[0].input)).toEqual([
      { EndpointName: 'scones-endpoint', EndpointConfigName: 'scones-endpoint-20260506-070809' },
    ]);
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
    expect(sagemaker.commandCalls(ListTrainingJobsCommand)).toHaveLength(0);
    expect(sagemaker.commandCalls(DescribeEndpointCommand)).toHaveLength(3);
    expect(result).toEqual({
      endpointName: 'scones-endpoint',
      endpointArn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/scones-endpoint',
      modelName: 'scones-endpoint-20260506-070809',
      endpointConfigName: 'scones-endpoint-20260506-070809',
      modelDataUrl: ARTIFACT,
      image: IMAGE,
      trainingJobName: JOB,
      captureDestination: 's3://scones-bucket/data_capture',
      updated: false,
      status: 'InService',
    });
    expect(progress).toEqual(expect.arrayContaining([expect.stringMatching(/^endpoint scones-endpoint: Creating/), expect.stringMatching(/^endpoint scones-endpoint: InService/)]));
  });

  it('defaults to the newest completed training job and updates an existing endpoint', async () => {
    sagemaker.on(ListTrainingJobsCommand).resolves({ TrainingJobSummaries: [{ TrainingJobName: JOB } as never] });
    sagemaker.on(DescribeTrainingJobCommand).resolves(trainingJob());
    sagemaker.on(DescribeEndpointCommand).resolvesOnce({ EndpointStatus: 'InService' } as never).resolvesOnce({ EndpointStatus: 'Updating' } as never).resolves({ EndpointStatus: 'InService' } as never);
    const result = await deployToSageMaker(client, { endpointName: 'scones-endpoint', bucket: 'b1', samplingPercentage: 25, instanceType: 'ml.c5.large', now, pollIntervalMs: 1 });
    expect(sagemaker.commandCalls(ListTrainingJobsCommand)[0].args[0].input).toEqual({ SortBy: 'CreationTime', SortOrder: 'Descending', StatusEquals: 'Completed', MaxResults: 1 });
    expect(sagemaker.commandCalls(UpdateEndpointCommand).map((c) => c.args[0].input)).toEqual([{ EndpointName: 'scones-endpoint', EndpointConfigName: 'scones-endpoint-20260506-070809' }]);
    expect(sagemaker.commandCalls(CreateEndpointCommand)).toHaveLength(0);
    const config = sagemaker.commandCalls(CreateEndpointConfigCommand)[0].args[0].input;
    expect(config.DataCaptureConfig).toEqual({ ...EXPECTED_CAPTURE, InitialSamplingPercentage: 25, DestinationS3Uri: 's3://b1/data_capture' });
    expect(config.ProductionVariants?.[0].InstanceType).toBe('ml.c5.large');
    expect(result.updated).toBe(true);
  });

  it('deploys an explicit artifact with the given image and role, without asking for a training job', async () => {
    sagemaker.on(DescribeEndpointCommand).rejectsOnce(notFound()).resolves({ EndpointStatus: 'InService' } as never);
    await deployToSageMaker(client, {
      endpointName: 'byoc-endpoint-with-a-very-long-name-that-needs-shortening-to-fit',
      bucket: 'b',
      modelDataUrl: 's3://b/models/job-1/model.tar.gz',
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/scones-endpoint:latest',
      roleArn: ROLE,
      now,
      pollIntervalMs: 1,
    });
    expect(sagemaker.commandCalls(DescribeTrainingJobCommand)).toHaveLength(0);
    const model = sagemaker.commandCalls(CreateModelCommand)[0].args[0].input;
    expect(model.ModelName).toBe('byoc-endpoint-with-a-very-long-name-that-needs-20260506-070809');
    expect(model.ModelName!.length).toBeLessThanOrEqual(63);
    expect(model.PrimaryContainer).toEqual({ Image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/scones-endpoint:latest', ModelDataUrl: 's3://b/models/job-1/model.tar.gz' });
  });

  it('names the failure: no training job, an unfinished job, a failed endpoint, a refused call', async () => {
    sagemaker.on(ListTrainingJobsCommand).resolves({ TrainingJobSummaries: [] });
    await expect(deployToSageMaker(client, { endpointName: 'e', bucket: 'b' })).rejects.toThrow(
      new SageMakerDeploymentError('no completed SageMaker training job in this account and region: name one with --job, or give --model-data, --image and --role-arn'),
    );

    sagemaker.reset();
    sagemaker.on(DescribeTrainingJobCommand).resolves({ ...(trainingJob('Failed') as object), FailureReason: 'AlgorithmError: out of memory' } as never);
    await expect(deployToSageMaker(client, { endpointName: 'e', bucket: 'b', trainingJobName: JOB })).rejects.toThrow(`training job ${JOB} is Failed, not Completed: AlgorithmError: out of memory`);

    sagemaker.reset();
    sagemaker.on(DescribeTrainingJobCommand).resolves(trainingJob());
    sagemaker.on(DescribeEndpointCommand).rejectsOnce(notFound()).resolves({ EndpointStatus: 'Failed', FailureReason: 'The primary container did not pass the ping health check.' } as never);
    await expect(deployToSageMaker(client, { endpointName: 'e', bucket: 'b', trainingJobName: JOB, pollIntervalMs: 1 })).rejects.toThrow(
      'endpoint e is Failed: The primary container did not pass the ping health check.',
    );

    sagemaker.reset();
    sagemaker.on(DescribeTrainingJobCommand).resolves(trainingJob());
    sagemaker.on(CreateModelCommand).rejects(new SageMakerServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'not authorized to perform iam:PassRole' }));
    await expect(deployToSageMaker(client, { endpointName: 'e', bucket: 'b', trainingJobName: JOB, now })).rejects.toThrow(
      'CreateModel e-20260506-070809: AccessDeniedException: not authorized to perform iam:PassRole',
    );
  });

  it('refuses a bad endpoint name or sampling percentage before calling AWS', async () => {
    await expect(deployToSageMaker(client, { endpointName: 'bad_name', bucket: 'b' })).rejects.toThrow('endpoint name "bad_name": expected 1-63 letters, digits and hyphens');
    await expect(deployToSageMaker(client, { endpointName: 'ok', bucket: 'b', samplingPercentage: 120 })).rejects.toThrow('sampling percentage: expected 0..100, got 120');
    expect(sagemaker.calls()).toHaveLength(0);
  });
});
