import { STACK_CREDENTIALS, startStackServer, type LocalStack, type ServiceFactory, type ServiceId, type StackOptions } from '@scones/stack-core';
import { SERVICE_FACTORIES } from './services';
import { defaultWorkerCommand } from './workers';

export interface LocalStackOptions extends StackOptions {
  /** Which services to run (default: all). */
  services?: readonly ServiceId[];
  /** Replaces the built-in service factories (tests). */
  factories?: ReadonlyArray<readonly [ServiceId, ServiceFactory]>;
}

/**
 * Starts the local stack with every service (S3, SageMaker and its runtime, CloudWatch Logs,
 * Lambda, Step Functions, SNS, STS) at one URL; see `startStackServer` of @scones/stack-core for
 * the data directory, the instance file and the order services start and stop in.
 */
export function startStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const wanted = options.services ? new Set(options.services) : undefined;
  const factories = (options.factories ?? SERVICE_FACTORIES).filter(([id]) => !wanted || wanted.has(id));
  return startStackServer({ ...options, factories, credentials: STACK_CREDENTIALS, workerCommand: options.workerCommand ?? defaultWorkerCommand() });
}
