import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { s3ClientConfigFromEnvironment } from '@scones/local-cloud';
import { createSerializeHandler } from './lib/serialize';

// Created once per container (at cold start) and reused by every invocation. The endpoint comes
// from the standard SDK environment (AWS_ENDPOINT_URL_S3 for the embedded stack, unset on AWS).
const s3 = new S3Client(s3ClientConfigFromEnvironment());
const logger = new Logger({ serviceName: 'serialize-lambda' });

/** The Lambda entry point (runtime nodejs22.x, handler `main.handler`). */
export const handler = createSerializeHandler({ s3, logger });
