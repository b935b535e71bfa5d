import { SFNClient, type SFNClientConfig } from '@aws-sdk/client-sfn';
import { serviceClientConfig } from './client-config';
import type { Target } from './target';

/**
 * AWS Step Functions, on AWS or on the local stack. Locally the SDK must not prepend the
 * `sync-` host prefix of StartSyncExecution (`sync-127.0.0.1` does not resolve).
 */
export function stepFunctionsClientConfig(target: Target): SFNClientConfig {
  const config = serviceClientConfig(target, 'states');
  return target.kind === 'local' ? { ...config, disableHostPrefix: true } : config;
}

export function createStepFunctionsClient(target: Target): SFNClient {
  return new SFNClient(stepFunctionsClientConfig(target));
}
