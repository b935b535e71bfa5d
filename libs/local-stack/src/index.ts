// The local stack: every service of the workflow (S3, SageMaker and its runtime, CloudWatch Logs,
// Lambda, Step Functions, SNS, STS) at one URL, the processes it runs, and how commands reach it.
// The gateway, protocols, persistence and S3 are @scones/stack-core.
export { LocalStackError, StackStartError, StackInstanceError, DEFAULT_DATA_DIR, DEFAULT_STACK_PORT, findRunningStack, readInstanceFile, probeStack, processExists, INSTANCE_FILE, STACK_CREDENTIALS } from '@scones/stack-core';
export type { LocalStack, StackStatus, StackInstance, RunningStackInstance, ServiceId, StackContext, StackService } from '@scones/stack-core';
export { startStack, type LocalStackOptions } from './lib/stack';
export {
  connectOrStartStack,
  stopRunningStack,
  startDetachedStack,
  stackEnvironment,
  formatEnvironment,
  type StackConnection,
  type ConnectOptions,
  type DetachedStackOptions,
  type EnvironmentFormat,
} from './lib/control';
export { runStackWorker, defaultWorkerCommand } from './lib/workers';
