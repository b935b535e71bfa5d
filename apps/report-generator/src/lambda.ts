import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { s3ClientConfigFromEnvironment } from '@scones/local-cloud';
import { createReportHandler } from './lib/handler';
import { configureBundledTfjs } from './lib/tfjs-environment';

configureBundledTfjs(__dirname);

// Created once per container (at cold start) and reused by every invocation. The endpoint comes
// from the standard SDK environment (AWS_ENDPOINT_URL_S3 for the embedded stack, unset on AWS).
const s3 = new S3Client(s3ClientConfigFromEnvironment());
const logger = new Logger({ serviceName: 'report-generator' });

/**
 * The Lambda entry point (runtime nodejs22.x, handler `lambda.handler`), for a scheduled rule.
 * Environment: BUCKET, ENDPOINT_NAME, and optionally MODEL_MANIFEST_KEY or MODEL_PREFIX, LOOKBACK,
 * CAPTURE_PREFIX, REPORT_PREFIX, SCHEDULE_NAME, EMBEDDING_SAMPLE_SIZE (see README.md).
 */
export const handler = createReportHandler({ s3, logger });
