import type { ServiceId } from './gateway/routing';
import { createLambdaService } from './lambda';
import { createLogsService } from './logs/logs-service';
import { createS3Service } from './s3/s3-service';
import { createSageMakerRuntimeService } from './sagemaker/runtime-service';
import { createSageMakerService } from './sagemaker/sagemaker-service';
import type { StackContext, StackService } from './service';
import { createSnsService } from './sns/sns-service';
import { createStsService } from './sts/sts-service';

export type ServiceFactory = (stack: StackContext) => StackService;

/**
 * The services a stack runs, in start order (S3 first: endpoints load their models from it and
 * write capture to it; closed in reverse order, so capture is flushed before S3 stops).
 */
export const SERVICE_FACTORIES: ReadonlyArray<readonly [ServiceId, ServiceFactory]> = [
  ['s3', createS3Service],
  ['logs', createLogsService],
  ['sns', createSnsService],
  ['lambda', createLambdaService],
  // ['states', createStepFunctionsService],
  ['sagemaker', createSageMakerService],
  ['sagemaker-runtime', createSageMakerRuntimeService],
  ['sts', createStsService],
];
