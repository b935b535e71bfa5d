import { join } from 'node:path';
import { AwsError } from '@scones/stack-core';
import type { RequestContext } from '@scones/stack-core';
import { awsJsonHandler } from '@scones/stack-core';
import { parseInput } from '@scones/stack-core';
import type { S3Service } from '@scones/stack-core';
import type { StackContext, StackService } from '@scones/stack-core';
import { JsonStore } from '@scones/stack-core';
import { Endpoints, type EndpointRoute } from './endpoints';
import type { ModelDataSource } from './model-data';
import { alreadyExists, couldNotFind, epochSeconds, parseS3Uri, resourceArn, resourceKey, unsupported } from './names';
import type { EndpointConfigRecord, EndpointRecord, ModelRecord, TrainingJobRecord } from './records';
import {
  createEndpointConfigInput,
  createEndpointInput,
  createModelInput,
  createTrainingJobInput,
  endpointConfigNameInput,
  endpointNameInput,
  listEndpointConfigsInput,
  listEndpointsInput,
  listModelsInput,
  listTrainingJobsInput,
  modelNameInput,
  trainingJobNameInput,
  updateEndpointInput,
  type ContainerDefinition,
  type CreateTrainingJobInput,
  type DataCaptureConfig,
  type EndpointStatus,
} from './shapes';
import { TRAINING_LOG_GROUP, TrainingJobs } from './training';

/** The SageMaker service, with what SageMaker Runtime needs to reach an endpoint's process. */
export interface SageMakerService extends StackService {
  readonly id: 'sagemaker';
  /** Where InvokeEndpoint goes for `name`: set while the endpoint serves. */
  endpointRoute(name: string): EndpointRoute | undefined;
  /** The endpoint's status, undefined when there is no such endpoint. */
  endpointStatus(name: string): EndpointStatus | undefined;
}

/** What SageMaker's front end answers for every List* without MaxResults. */
const DEFAULT_MAX_RESULTS = 10;
/** Content types the model server takes as input: they are captured base64-encoded (as SageMaker does for types it is not told are text). */
const INPUT_CONTENT_TYPES = ['image/png', 'image/jpeg', 'application/x-image'];

function timeOf(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'number' ? value * 1000 : Date.parse(value);
}

/** Opaque List* tokens: the offset into the sorted, filtered listing. */
function page<T>(items: readonly T[], input: { NextToken?: string; MaxResults?: number }, listing: string): { items: T[]; NextToken?: string } {
  let offset = 0;
  if (input.NextToken !== undefined) {
    try {
      const token = JSON.parse(Buffer.from(input.NextToken, 'base64url').toString('utf8')) as { listing?: unknown; offset?: unknown };
      if (token.listing !== listing || !Number.isSafeInteger(token.offset) || (token.offset as number) < 0) throw new Error('foreign token');
      offset = token.offset as number;
    } catch {
      throw new AwsError('ValidationException', `NextToken ${JSON.stringify(input.NextToken)} is not a token of ${listing}`, 400);
    }
  }
  const size = input.MaxResults ?? DEFAULT_MAX_RESULTS;
  const next = offset + size < items.length ? Buffer.from(JSON.stringify({ listing, offset: offset + size })).toString('base64url') : undefined;
  return { items: items.slice(offset, offset + size), ...(next ? { NextToken: next } : {}) };
}

function sortBy<T>(items: T[], key: (item: T) => string | number, order: 'Ascending' | 'Descending'): T[] {
  const sign = order === 'Ascending' ? 1 : -1;
  return items.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -sign : x > y ? sign : 0;
  });
}

function nameContains(name: string, filter: string | undefined): boolean {
  return filter === undefined || name.toLowerCase().includes(filter.toLowerCase());
}

function createdWithin(creationTime: number, input: { CreationTimeBefore?: number | string; CreationTimeAfter?: number | string }): boolean {
  const before = timeOf(input.CreationTimeBefore);
  const after = timeOf(input.CreationTimeAfter);
  return (before === undefined || creationTime < before) && (after === undefined || creationTime > after);
}

/** Where a model's files come from; refuses what the stack cannot read, naming the field. */
function modelDataOf(container: ContainerDefinition, field: string): ModelDataSource {
  if (container.ModelDataUrl !== undefined && container.ModelDataSource !== undefined) {
    throw unsupported(field, 'ModelDataUrl and ModelDataSource are mutually exclusive; give one');
  }
  if (container.ModelDataUrl !== undefined) {
    const s3 = parseS3Uri(container.ModelDataUrl);
    if (!s3 || !s3.key) throw unsupported(`${field}.ModelDataUrl`, `the local stack reads model data from its own S3: expected s3://bucket/key (model.tar.gz), got ${JSON.stringify(container.ModelDataUrl)}`);
    // A key ending in `/` is the project's own uncompressed layout (models/<job>/), copied as is.
    return { kind: s3.key.endsWith('/') ? 'prefix' : 'tarball', bucket: s3.bucket, key: s3.key };
  }
  const source = container.ModelDataSource?.S3DataSource;
  if (source) {
    const s3 = parseS3Uri(source.S3Uri);
    if (!s3) throw unsupported(`${field}.ModelDataSource.S3DataSource.S3Uri`, `the local stack reads model data from its own S3: expected s3://bucket/key, got ${JSON.stringify(source.S3Uri)}`);
    if (source.S3DataType === 'S3Prefix') {
      if (source.CompressionType !== 'None') throw unsupported(`${field}.ModelDataSource.S3DataSource.CompressionType`, 'an S3Prefix model data source must be uncompressed (None)');
      if (!s3.key.endsWith('/') && s3.key !== '') throw unsupported(`${field}.ModelDataSource.S3DataSource.S3Uri`, 'an S3Prefix URI must end with a slash (/)');
      return { kind: 'prefix', bucket: s3.bucket, key: s3.key };
    }
    if (!s3.key) throw unsupported(`${field}.ModelDataSource.S3DataSource.S3Uri`, 'an S3Object URI must name an object');
    return { kind: source.CompressionType === 'Gzip' ? 'tarball' : 'object', bucket: s3.bucket, key: s3.key };
  }
  throw unsupported(`${field}.ModelDataUrl`, "the local stack's images serve a model artifact: give ModelDataUrl (s3://…/model.tar.gz) or ModelDataSource");
}

/** The data capture the model server can do: input and output, images as base64, JSON output as text. */
function checkCapture(capture: DataCaptureConfig): void {
  const field = 'DataCaptureConfig';
  if (!capture.DestinationS3Uri.startsWith('s3://') || !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$)/.test(capture.DestinationS3Uri)) {
    throw unsupported(`${field}.DestinationS3Uri`, `expected s3://bucket[/prefix] with a valid bucket name, got ${JSON.stringify(capture.DestinationS3Uri)}`);
  }
  const modes = new Set(capture.CaptureOptions.map((o) => o.CaptureMode));
  const input = modes.has('Input') || modes.has('InputAndOutput');
  const output = modes.has('Output') || modes.has('InputAndOutput');
  if (!input || !output) {
    throw unsupported(`${field}.CaptureOptions`, 'the local stack captures requests and responses together: give CaptureMode Input and Output (or InputAndOutput)');
  }
  const json = capture.CaptureContentTypeHeader?.JsonContentTypes ?? [];
  const csv = capture.CaptureContentTypeHeader?.CsvContentTypes ?? [];
  if (!json.includes('application/json')) {
    throw unsupported(
      `${field}.CaptureContentTypeHeader.JsonContentTypes`,
      'the local stack captures the model output (application/json) as JSON text: list application/json in JsonContentTypes (the SageMaker Python SDK does by default)',
    );
  }
  const textual = [...json, ...csv].find((t) => INPUT_CONTENT_TYPES.includes(t));
  if (textual) throw unsupported(`${field}.CaptureContentTypeHeader`, `${textual} is an image input type; the local stack captures images base64-encoded`);
}

/** Channel options the stack cannot honour, refused naming the field. */
function checkTrainingRequest(input: CreateTrainingJobInput): void {
  const spec = input.AlgorithmSpecification;
  if (!spec) throw unsupported('AlgorithmSpecification', 'the local stack needs AlgorithmSpecification with TrainingImage (the built-in image-classification image)');
  if (spec.AlgorithmName !== undefined) throw unsupported('AlgorithmSpecification.AlgorithmName', 'algorithm resources are not supported by the local stack; give TrainingImage');
  if (!spec.TrainingImage) throw unsupported('AlgorithmSpecification.TrainingImage', 'is required by the local stack');
  if (spec.TrainingInputMode === 'Pipe') throw unsupported('AlgorithmSpecification.TrainingInputMode', 'Pipe mode is not supported by the local stack; use File (FastFile behaves like File)');
  if (spec.ContainerEntrypoint || spec.ContainerArguments) throw unsupported('AlgorithmSpecification.ContainerEntrypoint', 'the local stack runs its own trainer, not a container entrypoint');
  if (!input.InputDataConfig) throw unsupported('InputDataConfig', 'the image-classification algorithm needs its channels (train, train_lst, …)');
  const names = new Set<string>();
  input.InputDataConfig.forEach((c, i) => {
    const at = `InputDataConfig.${i + 1}.member`;
    if (names.has(c.ChannelName)) throw new AwsError('ValidationException', `Channel names must be unique: ${c.ChannelName} appears twice`, 400);
    names.add(c.ChannelName);
    const s3 = c.DataSource.S3DataSource;
    if (!s3) throw unsupported(`${at}.DataSource`, 'the local stack reads channels from S3 only (S3DataSource)');
    if (s3.S3DataType !== 'S3Prefix') throw unsupported(`${at}.DataSource.S3DataSource.S3DataType`, `${s3.S3DataType} is not supported by the local stack; use S3Prefix`);
    if (!s3.S3Uri.startsWith('s3://')) throw unsupported(`${at}.DataSource.S3DataSource.S3Uri`, 'the local stack reads channels from its own S3 (s3://…)');
    if (c.CompressionType === 'Gzip') throw unsupported(`${at}.CompressionType`, 'compressed channels are not supported by the local stack');
    if (c.RecordWrapperType === 'RecordIO' || /recordio/i.test(c.ContentType ?? '')) {
      throw unsupported(`${at}.ContentType`, 'RecordIO is not supported by the local stack; use the image format (application/x-image with .lst files)');
    }
    if (c.InputMode === 'Pipe') throw unsupported(`${at}.InputMode`, 'Pipe mode is not supported by the local stack; use File');
  });
  if (input.OutputDataConfig.CompressionType === 'NONE') throw unsupported('OutputDataConfig.CompressionType', 'the local stack writes model.tar.gz (GZIP)');
  if (!input.OutputDataConfig.S3OutputPath.startsWith('s3://')) throw unsupported('OutputDataConfig.S3OutputPath', 'the local stack writes to its own S3 (s3://…)');
}

/**
 * SageMaker (awsJson 1.1, `SageMaker.`): models, endpoint configurations, endpoints (each served
 * by a worker process running the project's model server) and training jobs (each a worker
 * process running the project's trainer). Requests, answers and errors as SageMaker's (a missing
 * endpoint, model or configuration is a ValidationException "Could not find …", which the SDK
 * waiters rely on). State: `<dataDir>/sagemaker/`.
 */
export function createSageMakerService(stack: StackContext): SageMakerService {
  const directory = join(stack.dataDir, 'sagemaker');
  const logger = stack.logger;
  const models = new JsonStore<ModelRecord>(join(directory, 'models'));
  const configs = new JsonStore<EndpointConfigRecord>(join(directory, 'endpoint-configs'));
  const endpoints = new Endpoints({ stack, logger, directory, models, configs });
  const training = new TrainingJobs({ stack, logger, directory });
  /** Names being created right now, so two concurrent creates of one name cannot both succeed. */
  const creating = new Set<string>();
  const createOnce = async <T>(kind: 'model' | 'endpointConfig', name: string, arn: string, exists: () => Promise<unknown>, create: () => Promise<T>): Promise<T> => {
    const key = `${kind}/${resourceKey(name)}`;
    if (creating.has(key)) throw alreadyExists(kind, arn);
    creating.add(key);
    try {
      if (await exists()) throw alreadyExists(kind, arn);
      return await create();
    } finally {
      creating.delete(key);
    }
  };
  /** SageMaker checks at CreateTrainingJob that each channel has objects (when the stack serves S3). */
  const checkChannelsExist = async (input: CreateTrainingJobInput) => {
    const s3 = stack.service<S3Service>('s3');
    if (!s3) return;
    for (const c of input.InputDataConfig ?? []) {
      const uri = c.DataSource.S3DataSource?.S3Uri ?? '';
      const location = parseS3Uri(uri);
      if (!location) continue; // refused by checkTrainingRequest already
      let found = false;
      try {
        found = (await s3.listObjects(location.bucket, { prefix: location.key, maxKeys: 1 })).objects.length > 0;
      } catch {
        found = false; // a missing bucket: same answer as SageMaker's
      }
      if (!found) {
        throw new AwsError(
          'ValidationException',
          `No S3 objects found under S3 URL "${uri}" given in input data source. Please ensure that the bucket exists in the selected region (${stack.region}), that objects exist under that S3 prefix, and that the role "${input.RoleArn}" has "s3:ListBucket" permissions on bucket "${location.bucket}".`,
          400,
        );
      }
    }
  };

  const operations = {
    // ---- models
    CreateModel: async (raw: Record<string, unknown>, ctx: RequestContext) => {
      const input = parseInput(createModelInput, raw, 'CreateModel');
      const arn = resourceArn('model', ctx.region, stack.accountId, input.ModelName);
      if (input.PrimaryContainer && input.Containers) throw unsupported('PrimaryContainer', 'PrimaryContainer and Containers are mutually exclusive');
      let container: ContainerDefinition;
      let field: string;
      if (input.PrimaryContainer) {
        container = input.PrimaryContainer;
        field = 'PrimaryContainer';
      } else if (input.Containers && input.Containers.length > 0) {
        if (input.Containers.length > 1) throw unsupported('Containers', `the local stack serves one container per model (no inference pipelines); got ${input.Containers.length}`);
        container = input.Containers[0];
        field = 'Containers.1.member';
      } else {
        throw unsupported('PrimaryContainer', 'a model needs PrimaryContainer (or one element of Containers)');
      }
      if (container.ModelPackageName !== undefined) throw unsupported(`${field}.ModelPackageName`, 'model packages are not supported by the local stack; give Image and ModelDataUrl');
      if (!container.Image) throw unsupported(`${field}.Image`, 'is required by the local stack');
      if (container.Mode === 'MultiModel') throw unsupported(`${field}.Mode`, 'multi-model endpoints are not supported by the local stack (SingleModel only)');
      if (container.AdditionalModelDataSources?.length) throw unsupported(`${field}.AdditionalModelDataSources`, 'not supported by the local stack');
      const modelData = modelDataOf(container, field);
      const { ModelName: _name, Tags: tags, ...request } = input;
      const record: ModelRecord = { name: input.ModelName, arn, creationTime: Date.now(), request, container, modelData, ...(tags ? { tags } : {}) };
      await createOnce('model', input.ModelName, arn, () => models.get(resourceKey(input.ModelName)), () => models.put(resourceKey(input.ModelName), record));
      logger.info('model created', { model: input.ModelName, image: container.Image, modelData: `s3://${modelData.bucket}/${modelData.key}` });
      return { ModelArn: arn };
    },
    DescribeModel: async (raw: Record<string, unknown>, ctx: RequestContext) => {
      const { ModelName } = parseInput(modelNameInput, raw, 'DescribeModel');
      const record = await models.get(resourceKey(ModelName));
      if (!record) throw couldNotFind('model', resourceArn('model', ctx.region, stack.accountId, ModelName));
      return { ...record.request, ModelName: record.name, ModelArn: record.arn, CreationTime: epochSeconds(record.creationTime) };
    },
    DeleteModel: async (raw: Record<string, unknown>, ctx: RequestContext) => {
      const { ModelName } = parseInput(modelNameInput, raw, 'DeleteModel');
      if (!(await models.delete(resourceKey(ModelName)))) throw couldNotFind('model', resourceArn('model', ctx.region, stack.accountId, ModelName));
      return {};
    },
    ListModels: async (raw: Record<string, unknown>) => {
      const input = parseInput(listModelsInput, raw, 'ListModels');
      const all = (await models.list()).map((r) => r.value).filter((r) => nameContains(r.name, input.NameContains) && createdWithin(r.creationTime, input));
      sortBy(all, input.SortBy === 'Name' ? (r) => r.name : (r) => r.creationTime, input.SortOrder ?? 'Descending');
      const { items, NextToken } = page(all, input, 'ListModels');
      return { Models: items.map((r) => ({ ModelName: r.name, ModelArn: r.arn, CreationTime: epochSeconds(r.creationTime) })), ...(NextToken ? { NextToken } : {}) };
    },

    // ---- endpoint configurations
    CreateEndpointConfig: async (raw: Record<string, unknown>, ctx: RequestContext) => {
      const input = parseInput(createEndpointConfigInput, raw, 'CreateEndpointConfig');
      const arn = resourceArn('endpointConfig', ctx.region, stack.accountId, input.EndpointConfigName);
      if (input.ProductionVariants.length > 1) {
        throw unsupported('ProductionVariants', `the local stack serves one production variant per endpoint (no traffic splitting between variants); got ${input.ProductionVariants.length}`);
      }
      const variant = input.ProductionVariants[0];
      if (variant.ServerlessConfig !== undefined) throw unsupported('ProductionVariants.1.member.ServerlessConfig', 'serverless inference is not supported by the local stack; give InstanceType and InitialInstanceCount');
      if (!variant.ModelName) throw unsupported('ProductionVariants.1.member.ModelName', 'is required by the local stack (inference components are not supported)');
      if (input.AsyncInferenceConfig !== undefined) throw unsupported('AsyncInferenceConfig', 'asynchronous inference is not supported by the local stack');
      if (input.ExplainerConfig !== undefined) throw unsupported('ExplainerConfig', 'online explainability is not supported by the local stack');
      if (input.ShadowProductionVariants !== undefined) throw unsupported('ShadowProductionVariants', 'shadow variants are not supported by the local stack');
      if (input.DataCaptureConfig) checkCapture(input.DataCaptureConfig);
      if (!(await models.get(resourceKey(variant.ModelName)))) throw couldNotFind('model', resourceArn('model', ctx.region, stack.accountId, variant.ModelName));
      const { EndpointConfigName: _name, Tags: tags, ...request } = input;
      const record: EndpointConfigRecord = {
        name: input.EndpointConfigName,
        arn,
        creationTime: Date.now(),
        request,
        variant,
        ...(input.DataCaptureConfig ? { capture: input.DataCaptureConfig } : {}),
        ...(tags ? { tags } : {}),
      };
      await createOnce('endpointConfig', input.EndpointConfigName, arn, () => configs.get(resourceKey(input.EndpointConfigName)), () => configs.put(resourceKey(input.EndpointConfigName), record));
      return { EndpointConfigArn: arn };
    },
    DescribeEndpointConfig: async (raw: Record<string, unknown>, ctx: RequestContext) => {
      const { EndpointConfigName } = parseInput(endpointConfigNameInput, raw, 'DescribeEndpointConfig');
      const record = await configs.get(resourceKey(EndpointConfigName));
      if (!record) throw couldNotFind('endpointConfig', resourceArn('endpointConfig', ctx.region, stack.accountId, EndpointConfigName));
      return { ...record.request, EndpointConfigName: record.name, EndpointConfigArn: record.arn, CreationTime: epochSeconds(record.creationTime) };
    },
    DeleteEndpointConfig: async (raw: Record<string, unknown>, ctx: RequestContext) => {
      const { EndpointConfigName } = parseInput(endpointConfigNameInput, raw, 'DeleteEndpointConfig');
      if (!(await configs.delete(resourceKey(EndpointConfigName)))) {
        throw couldNotFind('endpointConfig', resourceArn('endpointConfig', ctx.region, stack.accountId, EndpointConfigName));
      }
      return {};
    },
    ListEndpointConfigs: async (raw: Record<string, unknown>) => {
      const input = parseInput(listEndpointConfigsInput, raw, 'ListEndpointConfigs');
      const all = (await configs.list()).map((r) => r.value).filter((r) => nameContains(r.name, input.NameContains) && createdWithin(r.creationTime, input));
      sortBy(all, input.SortBy === 'Name' ? (r) => r.name : (r) => r.creationTime, input.SortOrder ?? 'Descending');
      const { items, NextToken } = page(all, input, 'ListEndpointConfigs');
      return {
        EndpointConfigs: items.map((r) => ({ EndpointConfigName: r.name, EndpointConfigArn: r.arn, CreationTime: epochSeconds(r.creationTime) })),
        ...(NextToken ? { NextToken } : {}),
      };
    },

    // ---- endpoints
    CreateEndpoint: async (raw: Record<string, unknown>, ctx: RequestContext) => {
      const input = parseInput(createEndpointInput, raw, 'CreateEndpoint');
      const arn = resourceArn('endpoint', ctx.region, stack.accountId, input.EndpointName);
      if (endpoints.has(input.EndpointName)) throw alreadyExists('endpoint', arn);
      const spec = await endpoints.specFor(input.EndpointConfigName, ctx.region, stack.accountId);
      const now = Date.now();
      const record: EndpointRecord = {
        name: input.EndpointName,
        arn,
        configName: spec.configName,
        status: 'Creating',
        creationTime: now,
        lastModifiedTime: now,
        ...(input.DeploymentConfig ? { deploymentConfig: input.DeploymentConfig } : {}),
        ...(input.Tags ? { tags: input.Tags } : {}),
      };
      await endpoints.create(record, spec);
      logger.info('endpoint creating', { endpoint: input.EndpointName, config: spec.configName, model: spec.modelName });
      return { EndpointArn: arn };
    },
    UpdateEndpoint: async (raw: Record<string, unknown>, ctx: RequestContext) => {
      const input = parseInput(updateEndpointInput, raw, 'UpdateEndpoint');
      endpoints.get(input.EndpointName, ctx.region, stack.accountId);
      const spec = await endpoints.specFor(input.EndpointConfigName, ctx.region, stack.accountId);
      const arn = await endpoints.update(input.EndpointName, spec, ctx.region, stack.accountId);
      logger.info('endpoint updating', { endpoint: input.EndpointName, config: spec.configName });
      return { EndpointArn: arn };
    },
    DescribeEndpoint: (raw: Record<string, unknown>, ctx: RequestContext) => {
      const { EndpointName } = parseInput(endpointNameInput, raw, 'DescribeEndpoint');
      return endpoints.describe(endpoints.get(EndpointName, ctx.region, stack.accountId));
    },
    DeleteEndpoint: async (raw: Record<string, unknown>, ctx: RequestContext) => {
      const { EndpointName } = parseInput(endpointNameInput, raw, 'DeleteEndpoint');
      await endpoints.delete(EndpointName, ctx.region, stack.accountId);
      return {};
    },
    ListEndpoints: (raw: Record<string, unknown>) => {
      const input = parseInput(listEndpointsInput, raw, 'ListEndpoints');
      const modifiedBefore = timeOf(input.LastModifiedTimeBefore);
      const modifiedAfter = timeOf(input.LastModifiedTimeAfter);
      const all = endpoints
        .list()
        .filter(
          (r) =>
            nameContains(r.name, input.NameContains) &&
            createdWithin(r.creationTime, input) &&
            (modifiedBefore === undefined || r.lastModifiedTime < modifiedBefore) &&
            (modifiedAfter === undefined || r.lastModifiedTime > modifiedAfter) &&
            (input.StatusEquals === undefined || r.status === input.StatusEquals),
        );
      sortBy(all, input.SortBy === 'Name' ? (r) => r.name : input.SortBy === 'Status' ? (r) => r.status : (r) => r.creationTime, input.SortOrder ?? 'Descending');
      const { items, NextToken } = page(all, input, 'ListEndpoints');
      return {
        Endpoints: items.map((r) => ({
          EndpointName: r.name,
          EndpointArn: r.arn,
          CreationTime: epochSeconds(r.creationTime),
          LastModifiedTime: epochSeconds(r.lastModifiedTime),
          EndpointStatus: r.status,
        })),
        ...(NextToken ? { NextToken } : {}),
      };
    },

    // ---- training jobs
    CreateTrainingJob: async (raw: Record<string, unknown>, ctx: RequestContext) => {
      const input = parseInput(createTrainingJobInput, raw, 'CreateTrainingJob');
      const arn = resourceArn('trainingJob', ctx.region, stack.accountId, input.TrainingJobName);
      checkTrainingRequest(input);
      if (training.has(input.TrainingJobName)) {
        throw new AwsError('ResourceInUse', `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${arn})`, 400);
      }
      await checkChannelsExist(input);
      if (training.has(input.TrainingJobName)) {
        throw new AwsError('ResourceInUse', `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${arn})`, 400);
      }
      const now = Date.now();
      const record: TrainingJobRecord = {
        name: input.TrainingJobName,
        arn,
        request: input,
        status: 'InProgress',
        secondaryStatus: 'Starting',
        transitions: [],
        creationTime: now,
        lastModifiedTime: now,
        finalMetrics: [],
        logStream: `${input.TrainingJobName}/algo-1-${Math.floor(now / 1000)}`,
        ...(input.Tags ? { tags: input.Tags } : {}),
      };
      await training.create(record);
      logger.info('training job created', { job: input.TrainingJobName, image: input.AlgorithmSpecification?.TrainingImage, log: `${TRAINING_LOG_GROUP} ${record.logStream}` });
      return { TrainingJobArn: arn };
    },
    DescribeTrainingJob: (raw: Record<string, unknown>) => {
      const { TrainingJobName } = parseInput(trainingJobNameInput, raw, 'DescribeTrainingJob');
      return training.describe(training.get(TrainingJobName));
    },
    StopTrainingJob: async (raw: Record<string, unknown>) => {
      const { TrainingJobName } = parseInput(trainingJobNameInput, raw, 'StopTrainingJob');
      await training.stop(TrainingJobName);
      return {};
    },
    ListTrainingJobs: (raw: Record<string, unknown>) => {
      const input = parseInput(listTrainingJobsInput, raw, 'ListTrainingJobs');
      const modifiedBefore = timeOf(input.LastModifiedTimeBefore);
      const modifiedAfter = timeOf(input.LastModifiedTimeAfter);
      const all = training
        .list()
        .filter(
          (r) =>
            nameContains(r.name, input.NameContains) &&
            createdWithin(r.creationTime, input) &&
            (modifiedBefore === undefined || r.lastModifiedTime < modifiedBefore) &&
            (modifiedAfter === undefined || r.lastModifiedTime > modifiedAfter) &&
            (input.StatusEquals === undefined || r.status === input.StatusEquals),
        );
      sortBy(all, input.SortBy === 'Name' ? (r) => r.name : input.SortBy === 'Status' ? (r) => r.status : (r) => r.creationTime, input.SortOrder ?? 'Ascending');
      const { items, NextToken } = page(all, input, 'ListTrainingJobs');
      return {
        TrainingJobSummaries: items.map((r) => ({
          TrainingJobName: r.name,
          TrainingJobArn: r.arn,
          CreationTime: epochSeconds(r.creationTime),
          ...(r.trainingEndTime !== undefined ? { TrainingEndTime: epochSeconds(r.trainingEndTime) } : {}),
          LastModifiedTime: epochSeconds(r.lastModifiedTime),
          TrainingJobStatus: r.status,
          SecondaryStatus: r.secondaryStatus,
        })),
        ...(NextToken ? { NextToken } : {}),
      };
    },
  };

  const handle = awsJsonHandler({ serviceName: 'SageMaker', targetPrefix: 'SageMaker', protocol: 'awsJson1_1', operations });

  return {
    id: 'sagemaker',
    handle,
    endpointRoute: (name) => endpoints.route(name),
    endpointStatus: (name) => endpoints.status(name),
    async start() {
      await training.start();
      await endpoints.start();
    },
    async close() {
      await Promise.all([endpoints.close(), training.close()]);
    },
    status: async () => ({
      endpoints: endpoints.summary(),
      trainingJobs: training.summary(),
      models: (await models.list()).length,
      endpointConfigs: (await configs.list()).length,
    }),
  };
}
