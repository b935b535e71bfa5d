export { LocalCloudError, LocalS3StartError, TargetConfigError } from './errors';
export {
  DEFAULT_LOCAL_BUCKET,
  LOCAL_REGION,
  LOCAL_CREDENTIALS,
  parseTargetKind,
  type Target,
  type TargetKind,
} from './lib/target';
export {
  s3ClientConfig,
  sageMakerRuntimeClientConfig,
  createS3Client,
  createSageMakerRuntimeClient,
  localSdkEnvironment,
} from './lib/client-config';
export { startLocalS3, DEFAULT_LOCAL_S3_DIRECTORY, type LocalS3, type LocalS3Options } from './lib/local-s3';
