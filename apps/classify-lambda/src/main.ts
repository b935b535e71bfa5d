import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { Logger } from '@aws-lambda-powertools/logger';
import { createClassifyHandler } from './lib/classify';

// Created once per container (at cold start) and reused by every invocation. The SDK defaults are
// the whole configuration: the endpoint comes from AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME for the
// embedded stack and is unset on AWS.
const sagemaker = new SageMakerRuntimeClient({});
const logger = new Logger({ serviceName: 'classify-lambda' });

/** The Lambda entry point (runtime nodejs22.x, handler `main.handler`); ENDPOINT_NAME names the endpoint. */
export const handler = createClassifyHandler({ sagemaker, logger });
