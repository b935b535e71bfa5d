import { SFNClient, type SFNClientConfig } from '@aws-sdk/client-sfn';
import { TargetConfigError } from '../errors';
import type { Target } from './target';

/**
 * Client configuration of AWS Step Functions. It exists only on AWS: on a local target the state
 * machine runs in-process (the workflow library's local runner).
 */
export function stepFunctionsClientConfig(target: Target): SFNClientConfig {
  if (target.kind !== 'aws') throw new TargetConfigError('AWS Step Functions exists only with --target aws (locally the state machine runs in-process)');
  return target.region ? { region: target.region } : {};
}

export function createStepFunctionsClient(target: Target): SFNClient {
  return new SFNClient(stepFunctionsClientConfig(target));
}
