export { LocalCloudError, TargetConfigError } from './errors';
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
export { sageMakerClientConfig, createSageMakerClient } from './lib/sagemaker-client';
export { stepFunctionsClientConfig, createStepFunctionsClient } from './lib/step-functions-client';
export { createLambdaClient, createLogsClient, createSnsClient } from './lib/stack-clients';
