import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { localLambdaContext } from '@scones/local-cloud';
import { readReportJobConfig } from './job-config';
import { runReportJob, type ReportJobResult } from './report-job';

export interface ReportHandlerDependencies {
  s3: S3Client;
  logger: Logger;
  /** Where the configuration is read from, on every invocation. Default: `process.env`. */
  environment?: NodeJS.ProcessEnv;
  now?: () => Date;
}

export type ReportHandler = (event: unknown, context?: Context) => Promise<ReportJobResult>;

/** The scheduled event's time (EventBridge `time`), so a retried invocation reports the same window. */
function scheduledTime(event: unknown, now: () => Date): Date {
  const time = typeof event === 'object' && event !== null ? (event as { time?: unknown }).time : undefined;
  const parsed = typeof time === 'string' ? Date.parse(time) : Number.NaN;
  return Number.isFinite(parsed) ? new Date(parsed) : now();
}

/**
 * The report job as a Lambda handler (an EventBridge schedule invokes it): writes
 * `reports/<endpoint>/<timestamp>/report.html` and its JSON companions to the bucket, and logs a
 * warning per drift violation so an alarm can be put on them.
 */
export function createReportHandler({ s3, logger, environment = process.env, now = () => new Date() }: ReportHandlerDependencies): ReportHandler {
  return async function report(event, context) {
    logger.addContext(context ?? localLambdaContext('report-generator'));
    const config = readReportJobConfig(environment);
    const until = scheduledTime(event, now);
    logger.info('report started', { bucket: config.bucket, endpointName: config.endpointName, until: until.toISOString(), lookbackMs: config.lookbackMs });
    const result = await runReportJob(config, s3, until);
    for (const metric of result.violations) logger.warn('drift violation', { endpointName: result.endpointName, metric, report: result.report });
    logger.info('report written', { ...result });
    return result;
  };
}
