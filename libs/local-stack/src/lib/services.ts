import { createS3Service, type ServiceFactory, type ServiceId } from '@scones/stack-core';
import { createLambdaService } from './lambda';
import { createLogsService } from './logs/logs-service';
import { createSageMakerRuntimeService } from './sagemaker/runtime-service';
import { createSageMakerService } from './sagemaker/sagemaker-service';
import { createSnsService } from './sns/sns-service';
import { createStepFunctionsService } from './stepfunctions/stepfunctions-service';
import { createStsService } from './sts/sts-service';

/**
 * The services a stack runs, in start order (S3 first: endpoints load their models from it and
 * write capture to it; closed in reverse order, so capture is flushed before S3 stops).
 */
export const SERVICE_FACTORIES: ReadonlyArray<readonly [ServiceId, ServiceFactory]> = [
  ['s3', createS3Service],
  ['logs', createLogsService],
  ['sns', createSnsService],
  ['lambda', createLambdaService],
  ['states', createStepFunctionsService],
  ['sagemaker', createSageMakerService],
  ['sagemaker-runtime', createSageMakerRuntimeService],
  ['sts', createStsService],
];
