export { WorkflowLibraryError, WorkflowDefinitionError, LocalRunnerError, LambdaBundleError, StepFunctionsError } from './errors';
export type {
  AslDefinition,
  AslStateMachine,
  AslState,
  AslTaskState,
  AslPassState,
  AslParallelState,
  AslMapState,
  AslChoiceState,
  AslFailState,
  AslRetrier,
  AslCatcher,
  JsonValue,
  JsonObject,
} from './lib/asl-types';
export {
  buildWorkflowDefinition,
  buildBatchWorkflowDefinition,
  exportedDefinitionFiles,
  LOCAL_FUNCTION_NAMES,
  LOCAL_NOTIFY_TOPIC_ARN,
  DEFINITION_PLACEHOLDERS,
  DEFAULT_MAX_CONCURRENCY,
  MAX_LISTED_IMAGES,
  LAMBDA_INVOKE_RESOURCE,
  SNS_PUBLISH_RESOURCE,
  S3_LIST_OBJECTS_V2_RESOURCE,
  WorkflowStateName,
  BatchErrorName,
  type WorkflowFunctions,
  type WorkflowOptions,
  type BatchWorkflowOptions,
} from './lib/workflow-definition';
export { ensurePromiseWithResolvers } from './lib/promise-with-resolvers';
export { TaskFailure, STATE_DATA_LIMIT_BYTES, checkStateDataSize } from './lib/task-failure';
export { createLambdaInvoker, functionNameOf, lambdaErrorCause, LAMBDA_PAYLOAD_LIMIT_BYTES, type LambdaHandler, type LambdaInvokeResult, type LambdaInvokerOptions } from './lib/lambda-invoke';
export { createSnsPublisher, createS3ObjectLister, type Notification, type SnsPublishResult, type ListObjectsV2Result } from './lib/local-integrations';
export type { ExecutionOutcome, ExecutionStatus, HistoryEvent, ExecuteOptions, WorkflowExecutor } from './lib/execution';
export { LocalWorkflowRunner, scaleRetryIntervals, type LocalWorkflowRunnerOptions } from './lib/local-runner';
export { summarizeLatencies, percentile, type LatencySummary } from './lib/latency';
export {
  groundTruthFromLst,
  imageOutcomeOfExecution,
  imageOutcomesOfBatch,
  summarizeImageOutcomes,
  topClass,
  type GroundTruth,
  type ImageOutcome,
  type WorkflowSummary,
} from './lib/execution-summary';
export { systemClock, type Clock } from './lib/clock';
export { generateLoad, type LoadOptions, type LoadProgress, type LoadReport, type LoadResult } from './lib/load-generator';
export { StepFunctionsExecutor, type StepFunctionsExecutorOptions } from './lib/step-functions-executor';
export { lambdaBundleFile, checkLambdaBundle, loadLambdaHandlers, type BundleFreshness } from './lib/lambda-bundles';
export { loadLocalLambdas, type LocalLambdasOptions } from './lib/local-lambdas';
export { testCase, randomKeys } from './lib/test-cases';
export { runExecutions, type RunExecutionsOptions } from './lib/run-executions';
export { workflowResourceNames, WORKFLOW_FUNCTION_SETTINGS, WORKFLOW_LAMBDA_RUNTIME, type WorkflowResourceNames, type WorkflowFunctionSettings } from './lib/resource-names';
export {
  installWorkflow,
  findStateMachine,
  putUserStateMachine,
  putFunction,
  deploymentPackage,
  type FunctionSpec,
  type PutFunctionResult,
  type WorkflowInstallClients, type InstallWorkflowOptions, type InstalledWorkflow } from './lib/install-workflow';
