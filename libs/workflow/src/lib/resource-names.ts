import { DEFAULT_STACK_NAME } from '@scones/local-cloud';
import type { WorkflowFunctions } from './workflow-definition';

/** Physical names of the workflow's AWS resources. */
export interface WorkflowResourceNames {
  functions: WorkflowFunctions;
  stateMachines: { single: string; batch: string };
  topic: string;
}

/**
 * The names of the workflow's functions, state machines and failure topic for a stack: the CDK
 * app gives its resources these names, and the local stack holds them under the same names
 * (for the default stack, `SconesStack-serialize` …), so ARNs read the same in both places.
 */
export function workflowResourceNames(stackName: string = DEFAULT_STACK_NAME): WorkflowResourceNames {
  return {
    functions: { serialize: `${stackName}-serialize`, classify: `${stackName}-classify`, filter: `${stackName}-filter` },
    stateMachines: { single: `${stackName}-classify`, batch: `${stackName}-classify-batch` },
    topic: `${stackName}-workflow-failures`,
  };
}

/** How each function of the workflow is configured: the CDK app and the local stack both use this. */
export interface WorkflowFunctionSettings {
  /** The Nx app whose bundle is the function's code (`dist/apps/<app>/main.js`). */
  app: string;
  description: string;
  memorySize: number;
  timeoutSeconds: number;
}

/** The Lambda runtime of the workflow's functions. */
export const WORKFLOW_LAMBDA_RUNTIME = 'nodejs22.x';

export const WORKFLOW_FUNCTION_SETTINGS: Readonly<Record<keyof WorkflowFunctions, WorkflowFunctionSettings>> = Object.freeze({
  serialize: {
    app: 'serialize-lambda',
    description: 'Scones workflow step 1: reads the image {s3_bucket, s3_key} and returns it base64-encoded',
    // Reads and base64-encodes one small image; the memory mostly buys CPU for the SDK's cold start.
    memorySize: 256,
    timeoutSeconds: 15,
  },
  classify: {
    app: 'classify-lambda',
    description: 'Scones workflow step 2: sends the image to the SageMaker endpoint and returns its class probabilities',
    memorySize: 256,
    // Waits for the endpoint (SageMaker's own invocation timeout is 60 s); transient errors are retried by the state machine.
    timeoutSeconds: 60,
  },
  filter: {
    app: 'filter-lambda',
    description: 'Scones workflow step 3: fails with THRESHOLD_CONFIDENCE_NOT_MET below THRESHOLD',
    memorySize: 128,
    timeoutSeconds: 10,
  },
});
