import { LAMBDA_SERVICE_ERRORS, TRANSIENT_ENDPOINT_ERRORS } from '@scones/payload-schemas';
import { WorkflowDefinitionError } from '../errors';
import type { AslDefinition, AslFailState, AslParallelState, AslRetrier, AslTaskState, AslMapState } from './asl-types';

/** The Lambda functions of the workflow: ARNs on AWS, function names for the local runner. */
export interface WorkflowFunctions {
  serialize: string;
  classify: string;
  filter: string;
}

export interface WorkflowOptions {
  functions: WorkflowFunctions;
  /** SNS topic a failed execution publishes to. */
  notifyTopicArn: string;
}

export interface BatchWorkflowOptions extends WorkflowOptions {
  /** Images classified at once by the Map state (0: no limit). Default {@link DEFAULT_MAX_CONCURRENCY}. */
  maxConcurrency?: number;
}

/** The function names the local runner knows the bundled handlers by (the Nx app names). */
export const LOCAL_FUNCTION_NAMES: WorkflowFunctions = Object.freeze({
  serialize: 'serialize-lambda',
  classify: 'classify-lambda',
  filter: 'filter-lambda',
});

/** The topic the local runner's notifier stands in for. */
export const LOCAL_NOTIFY_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:scones-workflow-failures';

/**
 * What the exported `definitions/*.asl.json` files hold instead of ARNs: CloudFormation
 * `DefinitionSubstitutions` variables, to be replaced when importing the file.
 */
export const DEFINITION_PLACEHOLDERS: WorkflowOptions = Object.freeze({
  functions: Object.freeze({ serialize: '${SerializeFunctionArn}', classify: '${ClassifyFunctionArn}', filter: '${FilterFunctionArn}' }),
  notifyTopicArn: '${NotifyTopicArn}',
});

/**
 * Map concurrency of the batch definition unless told otherwise: enough to keep one endpoint
 * instance busy without queueing most requests behind each other.
 */
export const DEFAULT_MAX_CONCURRENCY = 10;

/** ListObjectsV2 answers at most this many keys; the batch definition refuses a longer listing. */
export const MAX_LISTED_IMAGES = 1000;

export const LAMBDA_INVOKE_RESOURCE = 'arn:aws:states:::lambda:invoke';
export const SNS_PUBLISH_RESOURCE = 'arn:aws:states:::sns:publish';
export const S3_LIST_OBJECTS_V2_RESOURCE = 'arn:aws:states:::aws-sdk:s3:listObjectsV2';

/** State names of both definitions (the local runner's history and the CLI use them). */
export const WorkflowStateName = {
  Serialize: 'Serialize',
  Classify: 'Classify',
  Filter: 'Filter',
  NotifyFailure: 'Notify failure',
  Fail: 'Fail',
  ChooseInput: 'Choose input',
  ListImages: 'List images',
  CheckListing: 'Check listing',
  TooManyImages: 'Too many images',
  NoImages: 'No images',
  UseListedKeys: 'Use listed keys',
  ClassifyImages: 'Classify images',
  ClassifyImage: 'Classify image',
  RecordFailure: 'Record failure',
  CollectResults: 'Collect results',
} as const;

/** Errors the batch definition itself raises (the Lambdas' error names are in @scones/payload-schemas). */
export const BatchErrorName = {
  /** `s3_prefix` names no object. */
  NoImagesFound: 'NoImagesFound',
  /** `s3_prefix` holds more objects than one ListObjectsV2 page. */
  TooManyImages: 'TooManyImages',
} as const;

const S = WorkflowStateName;

/** Every retry of the workflow: 1 s, then 2 s, then 4 s. */
function retrier(errors: readonly string[]): AslRetrier {
  return { ErrorEquals: [...errors], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 };
}

function lambdaStep(functionArn: string, comment: string, retry: AslRetrier[], catchNext: string | undefined, next: string | undefined): AslTaskState {
  const state = {
    Type: 'Task' as const,
    Comment: comment,
    Resource: LAMBDA_INVOKE_RESOURCE,
    Parameters: { FunctionName: functionArn, 'Payload.$': '$' },
    // The Lambda's return value; the invoke metadata (StatusCode, ExecutedVersion) is dropped.
    OutputPath: '$.Payload',
    Retry: retry,
    ...(catchNext ? { Catch: [{ ErrorEquals: ['States.ALL'], Next: catchNext }] } : {}),
  };
  return next ? { ...state, Next: next } : { ...state, End: true };
}

/**
 * Serialize → Classify → Filter: the three Lambda steps, the same in both definitions. A failure
 * of any step goes to `catchNext` (single image) or ends the states (the batch's per-image
 * try/catch around them handles it).
 */
function classificationStates(functions: WorkflowFunctions, catchNext?: string): Record<string, AslTaskState> {
  const lambdaRetry = retrier(LAMBDA_SERVICE_ERRORS);
  return {
    [S.Serialize]: lambdaStep(functions.serialize, 'Reads the image from S3 and returns it base64-encoded (serialize-lambda).', [lambdaRetry], catchNext, S.Classify),
    [S.Classify]: lambdaStep(
      functions.classify,
      'Sends the image to the SageMaker endpoint and adds its class probabilities as inferences (classify-lambda). Transient endpoint errors are retried.',
      [lambdaRetry, retrier(TRANSIENT_ENDPOINT_ERRORS)],
      catchNext,
      S.Filter,
    ),
    [S.Filter]: lambdaStep(
      functions.filter,
      'Passes the result on only if the top class probability reaches THRESHOLD; otherwise fails with THRESHOLD_CONFIDENCE_NOT_MET (filter-lambda).',
      [lambdaRetry],
      catchNext,
      undefined,
    ),
  };
}

function checkOptions(options: WorkflowOptions): void {
  const fields: Array<[string, unknown]> = [
    ['functions.serialize', options.functions?.serialize],
    ['functions.classify', options.functions?.classify],
    ['functions.filter', options.functions?.filter],
    ['notifyTopicArn', options.notifyTopicArn],
  ];
  for (const [field, value] of fields) {
    if (typeof value !== 'string' || value.trim() === '') throw new WorkflowDefinitionError(`workflow definition: ${field}: expected a non-empty ARN or function name`);
  }
}

/**
 * The single-image workflow: Serialize → Classify → Filter as `lambda:invoke` tasks. Any failure
 * (THRESHOLD_CONFIDENCE_NOT_MET included) is published to the SNS topic with the execution's
 * input, error and cause, and the execution then fails with that same error and cause.
 */
export function buildWorkflowDefinition(options: WorkflowOptions): AslDefinition {
  checkOptions(options);
  return {
    Comment:
      'Scones Unlimited image classification: serialize the S3 image, classify it with the SageMaker endpoint, and pass it on only if the model is confident enough. Failures are published to SNS and fail the execution.',
    StartAt: S.Serialize,
    TimeoutSeconds: 300,
    States: {
      ...classificationStates(options.functions, S.NotifyFailure),
      ...notifyThenFailStates(options.notifyTopicArn, 'Scones workflow execution failed'),
    },
  };
}

/**
 * Publishes the caught failure (`$.Error`, `$.Cause`) with the execution and its input to the SNS
 * topic, then fails the execution with that same error and cause. Both definitions end this way.
 */
function notifyThenFailStates(topicArn: string, subject: string): Record<string, AslTaskState | AslFailState> {
  return {
    [S.NotifyFailure]: {
      Type: 'Task',
      Comment: 'Publishes the failure (execution, input, error, cause) to the SNS topic; the caught error stays in $.Error and $.Cause.',
      Resource: SNS_PUBLISH_RESOURCE,
      Parameters: {
        TopicArn: topicArn,
        Subject: subject,
        Message: { 'execution.$': '$$.Execution.Id', 'input.$': '$$.Execution.Input', 'error.$': '$.Error', 'cause.$': '$.Cause' },
      },
      ResultPath: '$.notification',
      // A notification that cannot be sent must not hide why the execution failed.
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.notificationError', Next: S.Fail }],
      Next: S.Fail,
    },
    [S.Fail]: {
      Type: 'Fail',
      Comment: 'Fails the execution with the error and cause of the step that failed.',
      ErrorPath: '$.Error',
      CausePath: '$.Cause',
    },
  };
}

/**
 * The batch workflow: classifies `{"s3_bucket", "s3_keys": [...]}` (or every object under
 * `"s3_prefix"`, listed by a ListObjectsV2 task) with a Map state running the same three steps per
 * image. A failed image becomes `{"s3_key", "error", "cause"}` in the results instead of failing the
 * batch; a passed one `{"s3_key", "inferences"}`. Output: `{"s3_bucket", "count", "results"}`.
 * A failure of the batch itself (listing, no or too many images, the Map) is published to the SNS
 * topic like a single image's, and fails the execution with its error and cause.
 */
export function buildBatchWorkflowDefinition(options: BatchWorkflowOptions): AslDefinition {
  checkOptions(options);
  const maxConcurrency = options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 0) {
    throw new WorkflowDefinitionError(`batch workflow definition: maxConcurrency: expected an integer >= 0 (0: no limit), got ${maxConcurrency}`);
  }
  // ASL's try/catch: a one-branch Parallel whose Catch still sees the item (and so its s3_key).
  const classifyImage: AslParallelState = {
    Type: 'Parallel',
    Comment: 'Serialize → Classify → Filter for one image; any failure is caught and recorded.',
    Branches: [{ StartAt: S.Serialize, States: classificationStates(options.functions) }],
    ResultSelector: { 's3_key.$': '$[0].body.s3_key', 'inferences.$': '$[0].body.inferences' },
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: S.RecordFailure }],
    End: true,
  };
  const classifyImages: AslMapState = {
    Type: 'Map',
    Comment: 'Classifies every image of s3_keys; each result is {s3_key, inferences} or {s3_key, error, cause}.',
    ItemsPath: '$.s3_keys',
    ItemSelector: { image_data: '', 's3_bucket.$': '$.s3_bucket', 's3_key.$': '$$.Map.Item.Value' },
    MaxConcurrency: maxConcurrency,
    ItemProcessor: {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: S.ClassifyImage,
      States: {
        [S.ClassifyImage]: classifyImage,
        [S.RecordFailure]: {
          Type: 'Pass',
          Parameters: { 's3_key.$': '$.s3_key', 'error.$': '$.failure.Error', 'cause.$': '$.failure.Cause' },
          End: true,
        },
      },
    },
    ResultPath: '$.results',
    // Per-image failures are results; this catches the batch itself failing (e.g. a bad item list).
    Catch: [{ ErrorEquals: ['States.ALL'], Next: S.NotifyFailure }],
    Next: S.CollectResults,
  };
  return {
    Comment:
      'Scones Unlimited batch classification: the single-image steps for every key of s3_keys (or every object under s3_prefix), recording each image\'s inferences or error without failing the batch.',
    StartAt: S.ChooseInput,
    TimeoutSeconds: 3600,
    States: {
      [S.ChooseInput]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.s3_prefix', IsPresent: true, Next: S.ListImages }],
        Default: S.ClassifyImages,
      },
      [S.ListImages]: {
        Type: 'Task',
        Comment: 'Lists the objects under s3_prefix (one page: at most 1000).',
        Resource: S3_LIST_OBJECTS_V2_RESOURCE,
        Parameters: { 'Bucket.$': '$.s3_bucket', 'Prefix.$': '$.s3_prefix', MaxKeys: MAX_LISTED_IMAGES },
        ResultPath: '$.listing',
        Catch: [{ ErrorEquals: ['States.ALL'], Next: S.NotifyFailure }],
        Next: S.CheckListing,
      },
      [S.CheckListing]: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.listing.IsTruncated', BooleanEquals: true, Next: S.TooManyImages },
          // S3 leaves Contents out when nothing matched. (Written as IsPresent: true + Default, not
          // IsPresent: false: aws-local-stepfunctions 3.0 never matches IsPresent: false.)
          { Variable: '$.listing.Contents', IsPresent: true, Next: S.UseListedKeys },
        ],
        Default: S.NoImages,
      },
      [S.TooManyImages]: {
        Type: 'Pass',
        Result: {
          Error: BatchErrorName.TooManyImages,
          Cause: `more than ${MAX_LISTED_IMAGES} objects under s3_prefix; pass s3_keys in batches of at most ${MAX_LISTED_IMAGES} instead`,
        },
        Next: S.NotifyFailure,
      },
      [S.NoImages]: { Type: 'Pass', Result: { Error: BatchErrorName.NoImagesFound, Cause: 'no object under s3_prefix' }, Next: S.NotifyFailure },
      [S.UseListedKeys]: {
        Type: 'Pass',
        Parameters: { 's3_bucket.$': '$.s3_bucket', 's3_keys.$': '$.listing.Contents[*].Key' },
        Next: S.ClassifyImages,
      },
      [S.ClassifyImages]: classifyImages,
      [S.CollectResults]: {
        Type: 'Pass',
        Parameters: { 's3_bucket.$': '$.s3_bucket', 'count.$': 'States.ArrayLength($.results)', 'results.$': '$.results' },
        End: true,
      },
      ...notifyThenFailStates(options.notifyTopicArn, 'Scones batch classification failed'),
    },
  };
}

/**
 * The definitions as the files in `libs/workflow/definitions/` hold them (ARNs as
 * {@link DEFINITION_PLACEHOLDERS}), by file name. `nx run workflow:export-definitions` writes
 * them; a test keeps them equal to this.
 */
export function exportedDefinitionFiles(): Record<string, string> {
  const text = (definition: AslDefinition) => `${JSON.stringify(definition, null, 2)}\n`;
  return {
    'workflow.asl.json': text(buildWorkflowDefinition(DEFINITION_PLACEHOLDERS)),
    'batch-workflow.asl.json': text(buildBatchWorkflowDefinition(DEFINITION_PLACEHOLDERS)),
  };
}
