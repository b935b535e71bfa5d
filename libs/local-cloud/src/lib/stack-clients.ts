import { CloudWatchLogsClient, type CloudWatchLogsClientConfig } from '@aws-sdk/client-cloudwatch-logs';
import { LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { serviceClientConfig } from './client-config';
import type { Target } from './target';

/** Lambda (CreateFunction, Invoke…), on AWS or on the local stack. */
export function createLambdaClient(target: Target, extra: LambdaClientConfig = {}): LambdaClient {
  return new LambdaClient({ ...serviceClientConfig(target, 'lambda'), ...extra });
}

/** CloudWatch Logs (following a training job's log), on AWS or on the local stack. */
export function createLogsClient(target: Target, extra: CloudWatchLogsClientConfig = {}): CloudWatchLogsClient {
  return new CloudWatchLogsClient({ ...serviceClientConfig(target, 'logs'), ...extra });
}

/** SNS, on AWS or on the local stack. */
export function createSnsClient(target: Target, extra: SNSClientConfig = {}): SNSClient {
  return new SNSClient({ ...serviceClientConfig(target, 'sns'), ...extra });
}
