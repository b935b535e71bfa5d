import * as z from 'zod';

/*
 * Inputs of the SageMaker operations the stack serves, with botocore's constraints
 * (sagemaker/2017-07-24/service-2.json). Objects are loose: members the stack does not use are
 * kept as sent and shown again by Describe*, the way SageMaker echoes its configuration; members
 * it cannot honour are refused by the operations, naming the field.
 */

const pattern = (text: string) => ({ error: `Member must satisfy regular expression pattern: ${text}` });

/** Endpoint, endpoint configuration, variant, training job names. */
export const ENTITY_NAME = z
  .string()
  .max(63, { error: 'Member must have length less than or equal to 63' })
  .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, pattern('[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}'));
export const MODEL_NAME = z
  .string()
  .max(63, { error: 'Member must have length less than or equal to 63' })
  .regex(/^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/, pattern('[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?'));
const ROLE_ARN = z
  .string()
  .min(20, { error: 'Member must have length greater than or equal to 20' })
  .max(2048)
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/, pattern('arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+'));
const URL = z.string().max(1024).regex(/^(https|s3):\/\/([^/]+)\/?(.*)$/, pattern('(https|s3)://([^/]+)/?(.*)'));
const KMS_KEY = z.string().max(2048).regex(/^[a-zA-Z0-9:/_-]*$/, pattern('[a-zA-Z0-9:/_-]*'));
const TAGS = z.array(z.looseObject({ Key: z.string().min(1).max(128), Value: z.string().max(256) })).max(50);
const NAME_CONTAINS = z.string().max(63).regex(/^[a-zA-Z0-9-]+$/, pattern('[a-zA-Z0-9-]+'));
const TIMESTAMP = z.union([z.number(), z.string()]);
const SORT_ORDER = z.enum(['Ascending', 'Descending']);

export const containerDefinition = z.looseObject({
  ContainerHostname: z.string().optional(),
  Image: z.string().max(255).regex(/^\S+$/, pattern('[\\S]+')).optional(),
  Mode: z.enum(['SingleModel', 'MultiModel']).optional(),
  ModelDataUrl: URL.optional(),
  ModelDataSource: z
    .looseObject({
      S3DataSource: z
        .looseObject({
          S3Uri: URL,
          S3DataType: z.enum(['S3Prefix', 'S3Object']),
          CompressionType: z.enum(['None', 'Gzip']),
        })
        .optional(),
    })
    .optional(),
  AdditionalModelDataSources: z.array(z.unknown()).optional(),
  Environment: z.record(z.string(), z.string()).optional(),
  ModelPackageName: z.string().optional(),
  InferenceSpecificationName: z.string().optional(),
});
export type ContainerDefinition = z.output<typeof containerDefinition>;

export const createModelInput = z.looseObject({
  ModelName: MODEL_NAME,
  PrimaryContainer: containerDefinition.optional(),
  Containers: z.array(containerDefinition).max(15).optional(),
  InferenceExecutionConfig: z.looseObject({ Mode: z.enum(['Serial', 'Direct']) }).optional(),
  ExecutionRoleArn: ROLE_ARN.optional(),
  Tags: TAGS.optional(),
  VpcConfig: z.looseObject({}).optional(),
  EnableNetworkIsolation: z.boolean().optional(),
});

export const modelNameInput = z.object({ ModelName: MODEL_NAME });

const listInput = {
  SortOrder: SORT_ORDER.optional(),
  NextToken: z.string().max(8192).optional(),
  MaxResults: z.number().int().min(1, { error: 'Member must have value greater than or equal to 1' }).max(100, { error: 'Member must have value less than or equal to 100' }).optional(),
  NameContains: NAME_CONTAINS.optional(),
  CreationTimeBefore: TIMESTAMP.optional(),
  CreationTimeAfter: TIMESTAMP.optional(),
};

export const listModelsInput = z.object({ ...listInput, SortBy: z.enum(['Name', 'CreationTime']).optional() });
export const listEndpointConfigsInput = z.object({ ...listInput, SortBy: z.enum(['Name', 'CreationTime']).optional() });

const ENDPOINT_STATUS = z.enum(['OutOfService', 'Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'InService', 'Deleting', 'Failed', 'UpdateRollbackFailed']);
export type EndpointStatus = z.output<typeof ENDPOINT_STATUS>;

export const listEndpointsInput = z.object({
  ...listInput,
  SortBy: z.enum(['Name', 'CreationTime', 'Status']).optional(),
  LastModifiedTimeBefore: TIMESTAMP.optional(),
  LastModifiedTimeAfter: TIMESTAMP.optional(),
  StatusEquals: ENDPOINT_STATUS.optional(),
});

export const productionVariant = z.looseObject({
  VariantName: ENTITY_NAME,
  ModelName: MODEL_NAME.optional(),
  InitialInstanceCount: z.number().int().min(1, { error: 'Member must have value greater than or equal to 1' }).optional(),
  InstanceType: z.string().optional(),
  InitialVariantWeight: z.number().min(0, { error: 'Member must have value greater than or equal to 0' }).optional(),
  ServerlessConfig: z.looseObject({}).optional(),
});
export type ProductionVariant = z.output<typeof productionVariant>;

export const dataCaptureConfig = z.looseObject({
  EnableCapture: z.boolean().optional(),
  InitialSamplingPercentage: z
    .number()
    .int()
    .min(0, { error: 'Member must have value greater than or equal to 0' })
    .max(100, { error: 'Member must have value less than or equal to 100' }),
  DestinationS3Uri: z.string().max(512).regex(/^(https|s3):\/\/([^/])/, pattern('(https|s3)://([^/])/?(.*)')),
  KmsKeyId: KMS_KEY.optional(),
  CaptureOptions: z
    .array(z.looseObject({ CaptureMode: z.enum(['Input', 'Output', 'InputAndOutput']) }))
    .min(1, { error: 'Member must have length greater than or equal to 1' })
    .max(32),
  CaptureContentTypeHeader: z
    .looseObject({
      CsvContentTypes: z.array(z.string().max(256)).min(1).max(10).optional(),
      JsonContentTypes: z.array(z.string().max(256)).min(1).max(10).optional(),
    })
    .optional(),
});
export type DataCaptureConfig = z.output<typeof dataCaptureConfig>;

export const createEndpointConfigInput = z.looseObject({
  EndpointConfigName: ENTITY_NAME,
  ProductionVariants: z
    .array(productionVariant)
    .min(1, { error: 'Member must have length greater than or equal to 1' })
    .max(10, { error: 'Member must have length less than or equal to 10' }),
  DataCaptureConfig: dataCaptureConfig.optional(),
  Tags: TAGS.optional(),
  KmsKeyId: KMS_KEY.optional(),
  AsyncInferenceConfig: z.unknown().optional(),
  ExplainerConfig: z.unknown().optional(),
  ShadowProductionVariants: z.unknown().optional(),
  ExecutionRoleArn: ROLE_ARN.optional(),
});

export const endpointConfigNameInput = z.object({ EndpointConfigName: ENTITY_NAME });

export const createEndpointInput = z.looseObject({
  EndpointName: ENTITY_NAME,
  EndpointConfigName: ENTITY_NAME,
  DeploymentConfig: z.looseObject({}).optional(),
  Tags: TAGS.optional(),
});

export const updateEndpointInput = z.looseObject({
  EndpointName: ENTITY_NAME,
  EndpointConfigName: ENTITY_NAME,
  RetainAllVariantProperties: z.boolean().optional(),
  ExcludeRetainedVariantProperties: z.array(z.unknown()).optional(),
  DeploymentConfig: z.looseObject({}).optional(),
  RetainDeploymentConfig: z.boolean().optional(),
});

export const endpointNameInput = z.object({ EndpointName: ENTITY_NAME });

const channel = z.looseObject({
  ChannelName: z.string().min(1).max(64).regex(/^[A-Za-z0-9.\-_]+$/, pattern('[A-Za-z0-9\\.\\-_]+')),
  DataSource: z.looseObject({
    S3DataSource: z
      .looseObject({
        S3DataType: z.enum(['ManifestFile', 'S3Prefix', 'AugmentedManifestFile', 'Converse']),
        S3Uri: URL,
        S3DataDistributionType: z.enum(['FullyReplicated', 'ShardedByS3Key']).optional(),
      })
      .optional(),
    FileSystemDataSource: z.unknown().optional(),
    DatasetSource: z.unknown().optional(),
  }),
  ContentType: z.string().max(256).optional(),
  CompressionType: z.enum(['None', 'Gzip']).optional(),
  RecordWrapperType: z.enum(['None', 'RecordIO']).optional(),
  InputMode: z.enum(['Pipe', 'File', 'FastFile']).optional(),
});
export type TrainingChannel = z.output<typeof channel>;

export const createTrainingJobInput = z.looseObject({
  TrainingJobName: ENTITY_NAME.min(1),
  HyperParameters: z.record(z.string().max(256), z.string().max(2500)).optional(),
  AlgorithmSpecification: z
    .looseObject({
      TrainingImage: z.string().max(255).optional(),
      AlgorithmName: z.string().optional(),
      TrainingInputMode: z.enum(['Pipe', 'File', 'FastFile']),
      MetricDefinitions: z.array(z.looseObject({ Name: z.string(), Regex: z.string() })).max(40).optional(),
      ContainerEntrypoint: z.array(z.string()).optional(),
      ContainerArguments: z.array(z.string()).optional(),
    })
    .optional(),
  RoleArn: ROLE_ARN,
  InputDataConfig: z
    .array(channel)
    .min(1, { error: 'Member must have length greater than or equal to 1' })
    .max(20, { error: 'Member must have length less than or equal to 20' })
    .optional(),
  OutputDataConfig: z.looseObject({ KmsKeyId: KMS_KEY.optional(), S3OutputPath: URL, CompressionType: z.enum(['GZIP', 'NONE']).optional() }),
  ResourceConfig: z.looseObject({ InstanceType: z.string().optional(), InstanceCount: z.number().int().min(0).optional(), VolumeSizeInGB: z.number().int().min(0).optional() }).optional(),
  StoppingCondition: z
    .looseObject({
      MaxRuntimeInSeconds: z.number().int().min(1, { error: 'Member must have value greater than or equal to 1' }).optional(),
      MaxWaitTimeInSeconds: z.number().int().min(1).optional(),
    })
    .optional(),
  Tags: TAGS.optional(),
});
export type CreateTrainingJobInput = z.output<typeof createTrainingJobInput>;

export const trainingJobNameInput = z.object({ TrainingJobName: ENTITY_NAME.min(1) });

export const listTrainingJobsInput = z.object({
  NextToken: z.string().max(8192).optional(),
  MaxResults: listInput.MaxResults,
  CreationTimeAfter: TIMESTAMP.optional(),
  CreationTimeBefore: TIMESTAMP.optional(),
  LastModifiedTimeAfter: TIMESTAMP.optional(),
  LastModifiedTimeBefore: TIMESTAMP.optional(),
  NameContains: NAME_CONTAINS.optional(),
  StatusEquals: z.enum(['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped', 'Deleting']).optional(),
  SortBy: z.enum(['Name', 'CreationTime', 'Status']).optional(),
  SortOrder: SORT_ORDER.optional(),
});
