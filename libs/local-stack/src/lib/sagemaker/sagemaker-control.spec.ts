import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  ListEndpointConfigsCommand,
  ListModelsCommand,
  ListTrainingJobsCommand,
  StopTrainingJobCommand,
  UpdateEndpointCommand,
  type CreateEndpointConfigCommandInput,
  type CreateTrainingJobCommandInput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { S3Client } from '@aws-sdk/client-s3';
import { startTestStack, type TestStack } from '../../testing';
import { BUILTIN_IMAGE, createBucket, environmentClients, eventually, putObject, ROLE, useSdkEnvironment } from '../../../test/sagemaker-kit';

jest.setTimeout(60_000);

const CAPTURE = {
  EnableCapture: true,
  InitialSamplingPercentage: 100,
  DestinationS3Uri: 's3://models/data_capture',
  CaptureOptions: [{ CaptureMode: 'Input' as const }, { CaptureMode: 'Output' as const }],
  CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
};

describe('SageMaker control plane (JS SDK v3 with the stack environment only)', () => {
  let stack: TestStack;
  let sagemaker: SageMakerClient;
  let s3: S3Client;
  let restore: () => void;
  let n = 0;
  const unique = (base: string) => `${base}-${++n}`;

  const createModel = async (name: string, url = 's3://models/fixture/model.tar.gz') => {
    await sagemaker.send(new CreateModelCommand({ ModelName: name, ExecutionRoleArn: ROLE, PrimaryContainer: { Image: BUILTIN_IMAGE, ModelDataUrl: url } }));
  };
  const configInput = (name: string, model: string, extra: Partial<CreateEndpointConfigCommandInput> = {}): CreateEndpointConfigCommandInput => ({
    EndpointConfigName: name,
    ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: model, InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }],
    DataCaptureConfig: CAPTURE,
    ...extra,
  });

  beforeAll(async () => {
    stack = await startTestStack({ services: ['s3', 'logs', 'sagemaker', 'sagemaker-runtime'] });
    restore = useSdkEnvironment(stack.context.sdkEnvironment());
    ({ sagemaker, s3 } = environmentClients());
    await createBucket(s3, 'models');
    await createBucket(s3, 'data');
  });
  afterAll(async () => {
    sagemaker.destroy();
    s3.destroy();
    restore();
    await stack.dispose();
  });

  describe('models and endpoint configurations', () => {
    it('creates, describes, lists and deletes a model with the request echoed', async () => {
      const name = unique('Model');
      const created = await sagemaker.send(
        new CreateModelCommand({
          ModelName: name,
          ExecutionRoleArn: ROLE,
          PrimaryContainer: { Image: BUILTIN_IMAGE, ModelDataUrl: 's3://models/fixture/model.tar.gz', Environment: { A: '1' } },
          VpcConfig: { SecurityGroupIds: ['sg-1'], Subnets: ['subnet-1'] },
        }),
      );
      expect(created.ModelArn).toBe(`arn:aws:sagemaker:us-east-1:000000000000:model/${name.toLowerCase()}`);
      const described = await sagemaker.send(new DescribeModelCommand({ ModelName: name.toLowerCase() }));
      expect(described).toMatchObject({
        ModelName: name,
        ModelArn: created.ModelArn,
        ExecutionRoleArn: ROLE,
        PrimaryContainer: { Image: BUILTIN_IMAGE, ModelDataUrl: 's3://models/fixture/model.tar.gz', Environment: { A: '1' } },
        VpcConfig: { SecurityGroupIds: ['sg-1'], Subnets: ['subnet-1'] },
      });
      expect(described.CreationTime).toBeInstanceOf(Date);
      expect(Math.abs(described.CreationTime!.getTime() - Date.now())).toBeLessThan(60_000);
      const listed = await sagemaker.send(new ListModelsCommand({ NameContains: name }));
      expect(listed.Models?.map((m) => m.ModelName)).toEqual([name]);
      await sagemaker.send(new DeleteModelCommand({ ModelName: name }));
      await expect(sagemaker.send(new DescribeModelCommand({ ModelName: name }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: `Could not find model "${created.ModelArn}".`,
        $metadata: { httpStatusCode: 400 },
      });
      await expect(sagemaker.send(new DeleteModelCommand({ ModelName: name }))).rejects.toMatchObject({ name: 'ValidationException' });
    });

    it('refuses a second model or configuration with a taken name, as SageMaker words it', async () => {
      const model = unique('dup-model');
      await createModel(model);
      await expect(createModel(model.toUpperCase())).rejects.toMatchObject({
        name: 'ValidationException',
        message: `Cannot create already existing model "arn:aws:sagemaker:us-east-1:000000000000:model/${model}".`,
      });
      const config = unique('dup-config');
      await sagemaker.send(new CreateEndpointConfigCommand(configInput(config, model)));
      await expect(sagemaker.send(new CreateEndpointConfigCommand(configInput(config, model)))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining('Cannot create already existing endpoint configuration'),
      });
    });

    it('names every invalid or missing parameter', async () => {
      await expect(sagemaker.send(new CreateModelCommand({ ModelName: 'bad_name!', PrimaryContainer: { Image: BUILTIN_IMAGE, ModelDataUrl: 's3://models/m.tar.gz' } }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringMatching(/Value at 'ModelName' failed to satisfy constraint: Member must satisfy regular expression pattern/),
      });
      await expect(sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'x' } as CreateEndpointConfigCommandInput))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining("Value at 'ProductionVariants'"),
      });
      await expect(
        sagemaker.send(new CreateEndpointConfigCommand(configInput(unique('cfg'), 'x', { DataCaptureConfig: { ...CAPTURE, InitialSamplingPercentage: 101 } }))),
      ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("Value at 'DataCaptureConfig.InitialSamplingPercentage'") });
      await expect(sagemaker.send(new CreateModelCommand({ ModelName: unique('m'), PrimaryContainer: { Image: BUILTIN_IMAGE, ModelDataUrl: 'https://example.com/m.tar.gz' } }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining('PrimaryContainer.ModelDataUrl'),
      });
    });

    it('refuses a configuration whose model does not exist', async () => {
      await expect(sagemaker.send(new CreateEndpointConfigCommand(configInput(unique('cfg'), 'no-such-model')))).rejects.toMatchObject({
        name: 'ValidationException',
        message: 'Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/no-such-model".',
      });
    });

    it('refuses what the stack cannot honour, naming the field, instead of ignoring it', async () => {
      const model = unique('model');
      await createModel(model);
      const refused = async (extra: Partial<CreateEndpointConfigCommandInput>, field: string) =>
        expect(sagemaker.send(new CreateEndpointConfigCommand(configInput(unique('cfg'), model, extra)))).rejects.toMatchObject({
          name: 'ValidationException',
          message: expect.stringContaining(field),
        });
      await refused(
        {
          ProductionVariants: [
            { VariantName: 'A', ModelName: model, InstanceType: 'ml.m5.large', InitialInstanceCount: 1, InitialVariantWeight: 1 },
            { VariantName: 'B', ModelName: model, InstanceType: 'ml.m5.large', InitialInstanceCount: 1, InitialVariantWeight: 1 },
          ],
        },
        'ProductionVariants: the local stack serves one production variant',
      );
      await refused({ ProductionVariants: [{ VariantName: 'A', ModelName: model, ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 1 } }] }, 'ServerlessConfig');
      await refused({ AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://models/async' } } }, 'AsyncInferenceConfig');
      await refused({ DataCaptureConfig: { ...CAPTURE, CaptureOptions: [{ CaptureMode: 'Input' }] } }, 'DataCaptureConfig.CaptureOptions');
      await refused({ DataCaptureConfig: { ...CAPTURE, CaptureContentTypeHeader: undefined } }, 'JsonContentTypes');
    });

    it('accepts what only changes where it would run (instance type, KMS key, VPC) and shows it again', async () => {
      const model = unique('model');
      await createModel(model);
      const name = unique('cfg');
      await sagemaker.send(
        new CreateEndpointConfigCommand(
          configInput(name, model, {
            KmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/abc',
            ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: model, InstanceType: 'ml.p3.2xlarge', InitialInstanceCount: 2, InitialVariantWeight: 1 }],
          }),
        ),
      );
      const described = await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }));
      expect(described).toMatchObject({
        EndpointConfigName: name,
        KmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/abc',
        ProductionVariants: [{ VariantName: 'AllTraffic', InstanceType: 'ml.p3.2xlarge', InitialInstanceCount: 2 }],
        DataCaptureConfig: { DestinationS3Uri: 's3://models/data_capture', InitialSamplingPercentage: 100 },
      });
      const listed = await sagemaker.send(new ListEndpointConfigsCommand({ NameContains: name }));
      expect(listed.EndpointConfigs?.map((c) => c.EndpointConfigName)).toEqual([name]);
      await sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name }));
      await expect(sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }))).rejects.toMatchObject({
        message: `Could not find endpoint configuration "arn:aws:sagemaker:us-east-1:000000000000:endpoint-config/${name}".`,
      });
    });

    it('pages listings with MaxResults and NextToken, newest first by default', async () => {
      const base = unique('page');
      for (const i of [1, 2, 3]) await createModel(`${base}-${i}`);
      const first = await sagemaker.send(new ListModelsCommand({ NameContains: base, MaxResults: 2 }));
      expect(first.Models?.map((m) => m.ModelName)).toEqual([`${base}-3`, `${base}-2`]);
      const second = await sagemaker.send(new ListModelsCommand({ NameContains: base, MaxResults: 2, NextToken: first.NextToken }));
      expect(second.Models?.map((m) => m.ModelName)).toEqual([`${base}-1`]);
      expect(second.NextToken).toBeUndefined();
      const byName = await sagemaker.send(new ListModelsCommand({ NameContains: base, SortBy: 'Name', SortOrder: 'Ascending' }));
      expect(byName.Models?.map((m) => m.ModelName)).toEqual([`${base}-1`, `${base}-2`, `${base}-3`]);
      await expect(sagemaker.send(new ListModelsCommand({ NextToken: 'garbage' }))).rejects.toMatchObject({ name: 'ValidationException' });
    });
  });

  describe('endpoints (control plane)', () => {
    it('answers a missing endpoint with ValidationException "Could not find endpoint" (what the waiters expect)', async () => {
      await expect(sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'nope' }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: 'Could not find endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/nope".',
      });
      await expect(sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'nope', EndpointConfigName: 'x' }))).rejects.toMatchObject({ name: 'ValidationException' });
    });

    it('refuses an endpoint whose configuration does not exist', async () => {
      await expect(sagemaker.send(new CreateEndpointCommand({ EndpointName: unique('ep'), EndpointConfigName: 'missing-config' }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: 'Could not find endpoint configuration "arn:aws:sagemaker:us-east-1:000000000000:endpoint-config/missing-config".',
      });
    });

    it('fails an endpoint whose image the stack cannot run, naming the image', async () => {
      const model = unique('foreign');
      const image = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/someone-elses-model:3';
      await sagemaker.send(new CreateModelCommand({ ModelName: model, ExecutionRoleArn: ROLE, PrimaryContainer: { Image: image, ModelDataUrl: 's3://models/fixture/model.tar.gz' } }));
      const config = unique('cfg');
      await sagemaker.send(new CreateEndpointConfigCommand(configInput(config, model)));
      const endpoint = unique('foreign-ep');
      await sagemaker.send(new CreateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: config }));
      const failed = await eventually(
        async () => {
          const d = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpoint }));
          return d.EndpointStatus === 'Failed' ? d : undefined;
        },
        60_000,
        'endpoint Failed',
      );
      expect(failed.FailureReason).toContain(image);
    });
  });

  describe('training jobs (validation)', () => {
    const request = (name: string, extra: Partial<CreateTrainingJobCommandInput> = {}): CreateTrainingJobCommandInput => ({
      TrainingJobName: name,
      RoleArn: ROLE,
      AlgorithmSpecification: { TrainingImage: BUILTIN_IMAGE, TrainingInputMode: 'File' },
      HyperParameters: { image_shape: '3,32,32', num_classes: '2', num_training_samples: '4' },
      InputDataConfig: [
        { ChannelName: 'train', ContentType: 'application/x-image', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://data/train/', S3DataDistributionType: 'FullyReplicated' } } },
        { ChannelName: 'train_lst', ContentType: 'application/x-image', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://data/train.lst' } } },
      ],
      OutputDataConfig: { S3OutputPath: 's3://models/training/' },
      ResourceConfig: { InstanceType: 'ml.p3.2xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
      ...extra,
    });

    beforeAll(async () => {
      await putObject(s3, 'data', 'train/a.png', 'x');
      await putObject(s3, 'data', 'train.lst', '0\t0\ta.png\n');
    });

    it('answers a missing job with ValidationException "Requested resource not found."', async () => {
      await expect(sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'no-such-job' }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: 'Requested resource not found.',
      });
      await expect(sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: 'no-such-job' }))).rejects.toMatchObject({ name: 'ValidationException' });
    });

    it('refuses a channel with no objects, as SageMaker does at CreateTrainingJob', async () => {
      const input = request(unique('job'));
      input.InputDataConfig![0].DataSource!.S3DataSource!.S3Uri = 's3://data/nothing-here/';
      await expect(sagemaker.send(new CreateTrainingJobCommand(input))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining('No S3 objects found under S3 URL "s3://data/nothing-here/"'),
      });
    });

    it('refuses channel formats the local trainer cannot read, naming the field', async () => {
      const input = request(unique('job'));
      input.InputDataConfig![0].ContentType = 'application/x-recordio';
      await expect(sagemaker.send(new CreateTrainingJobCommand(input))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining('InputDataConfig.1.member.ContentType'),
      });
      await expect(sagemaker.send(new CreateTrainingJobCommand(request(unique('job'), { AlgorithmSpecification: { TrainingImage: BUILTIN_IMAGE, TrainingInputMode: 'Pipe' } })))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining('AlgorithmSpecification.TrainingInputMode'),
      });
      await expect(sagemaker.send(new CreateTrainingJobCommand({ ...request(unique('job')), RoleArn: 'not-a-role' }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining("Value at 'RoleArn'"),
      });
    });

    it('fails a job without a required hyperparameter like the algorithm, and refuses a duplicate name with ResourceInUse', async () => {
      const name = unique('job');
      const { TrainingJobArn } = await sagemaker.send(new CreateTrainingJobCommand(request(name, { HyperParameters: { num_classes: '2' } })));
      expect(TrainingJobArn).toBe(`arn:aws:sagemaker:us-east-1:000000000000:training-job/${name}`);
      const failed = await eventually(
        async () => {
          const d = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
          return d.TrainingJobStatus === 'Failed' ? d : undefined;
        },
        30_000,
        'job Failed',
      );
      expect(failed).toMatchObject({
        SecondaryStatus: 'Failed',
        FailureReason: expect.stringMatching(/^ClientError: hyperparameter num_training_samples is required/),
        HyperParameters: { num_classes: '2' },
        ResourceConfig: { InstanceType: 'ml.p3.2xlarge' },
      });
      expect(failed.SecondaryStatusTransitions?.map((t) => t.Status)).toEqual(['Starting', 'Failed']);
      await expect(sagemaker.send(new CreateTrainingJobCommand(request(name)))).rejects.toMatchObject({ name: 'ResourceInUse', message: expect.stringContaining(TrainingJobArn!) });
      await expect(sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: name }))).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining('in status Failed'),
      });
      const listed = await sagemaker.send(new ListTrainingJobsCommand({ NameContains: name, StatusEquals: 'Failed' }));
      expect(listed.TrainingJobSummaries?.map((j) => j.TrainingJobName)).toEqual([name]);
    });

    it('fails a job whose training image the stack cannot run, naming the image', async () => {
      const name = unique('job');
      const image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-trainer:latest';
      await sagemaker.send(new CreateTrainingJobCommand(request(name, { AlgorithmSpecification: { TrainingImage: image, TrainingInputMode: 'File' } })));
      const failed = await eventually(
        async () => {
          const d = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
          return d.TrainingJobStatus === 'Failed' ? d : undefined;
        },
        30_000,
        'job Failed',
      );
      expect(failed.FailureReason).toContain(image);
    });
  });

  describe('protocol errors', () => {
    const post = (target: string, body: string) =>
      fetch(stack.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': target,
          authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=x',
        },
        body,
      });

    it('names an unknown operation and what the stack supports', async () => {
      const answer = await post('SageMaker.CreateNotebookInstance', '{}');
      expect(answer.status).toBe(400);
      expect(answer.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
      expect(((await answer.json()) as { message: string }).message).toMatch(/does not support CreateNotebookInstance; supported: .*CreateEndpoint.*DescribeTrainingJob/);
    });

    it('answers malformed JSON with SerializationException', async () => {
      const answer = await post('SageMaker.DescribeEndpoint', '{"EndpointName": ');
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { __type: string }).__type).toBe('SerializationException');
    });
  });
});
