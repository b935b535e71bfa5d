export { LocalCloudError, LocalS3StartError, TargetConfigError } from './errors';
export {
  DEFAULT_LOCAL_BUCKET,
  LOCAL_REGION,
  LOCAL_CREDENTIALS,
  LOCAL_ROLE_ARN,
  parseTargetKind,
  stackTarget,
  type Target,
  type TargetKind,
} from './lib/target';
export {
  s3ClientConfig,
  sageMakerRuntimeClientConfig,
  createS3Client,
  createSageMakerRuntimeClient,
  localSdkEnvironment,
  serviceClientConfig,
  type LocalClientConfig,
} from './lib/client-config';
export { startLocalS3, DEFAULT_LOCAL_S3_DIRECTORY, type LocalS3, type LocalS3Options } from './lib/local-s3';
export { s3ClientConfigFromEnvironment } from './lib/environment-client-config';
export {
  putObjects,
  listObjects,
  deleteObjects,
  md5Etag,
  bucketTransfer,
  S3TransferError,
  type BucketTransfer,
  type ObjectToPut,
  type ObjectInfo,
  type PutObjectsOptions,
  type PutObjectsResult,
} from './lib/s3-transfer';
export { localLambdaContext, type LocalLambdaContextOptions } from './lib/lambda-context';
export {
  readStackOutputs,
  stackExportName,
  STACK_OUTPUT_KEYS,
  DEFAULT_STACK_NAME,
  StackOutputsError,
  type StackOutputs,
  type StackOutputName,
  type ReadStackOutputsOptions,
} from './lib/stack-outputs';
export {
  EndpointRegistry,
  EndpointRegistryError,
  DEFAULT_ENDPOINTS_DIRECTORY,
  processIsAlive,
  type EndpointRegistryOptions,
} from './lib/endpoint-registry';
export { sageMakerClientConfig, createSageMakerClient } from './lib/sagemaker-client';
export { stepFunctionsClientConfig, createStepFunctionsClient } from './lib/step-functions-client';
export { createLambdaClient, createLogsClient, createSnsClient } from './lib/stack-clients';
