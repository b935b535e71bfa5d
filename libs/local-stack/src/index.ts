export { LocalStackError, StackStartError, StackInstanceError } from './errors';
export { startStack, DEFAULT_DATA_DIR, DEFAULT_STACK_PORT, type StackOptions, type LocalStack, type StackStatus } from './lib/stack';
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
export { findRunningStack, readInstanceFile, probeStack, processExists, INSTANCE_FILE, type StackInstance, type RunningStackInstance } from './lib/instance';
export { runStackWorker, defaultWorkerCommand } from './lib/workers';
export { AwsError } from './lib/aws-error';
export { LOCAL_ACCOUNT_ID, DEFAULT_STACK_REGION, STACK_CREDENTIALS, parseArn, formatArn, type Arn } from './lib/arn';
export type { ServiceId } from './lib/gateway/routing';
export type { StackContext, StackService } from './lib/service';
