/**
 * Error names that cross the Lambda → Step Functions boundary. A Lambda throws an error with
 * this `name`; Step Functions surfaces it as the state's error, and the state machine's Catch and
 * Retry match on it. Lambdas and the ASL builder both import these, so they cannot drift apart.
 */
export const WorkflowErrorName = {
  /** filter: the top class probability is below the threshold (Udacity starter contract). */
  ThresholdConfidenceNotMet: 'THRESHOLD_CONFIDENCE_NOT_MET',
  /** serialize: the S3 object of the event does not exist. */
  ImageNotFound: 'ImageNotFound',
  /** any Lambda: the incoming event or an upstream answer has the wrong shape. */
  PayloadValidation: 'PayloadValidationError',
  /** classify: the endpoint answered something that is not a probability array, or a 4xx. */
  EndpointResponseInvalid: 'EndpointResponseInvalid',
  /** any Lambda: its environment is missing or has a bad setting (ENDPOINT_NAME, THRESHOLD); retrying cannot help. */
  LambdaConfiguration: 'LambdaConfigurationError',
} as const;
export type WorkflowErrorName = (typeof WorkflowErrorName)[keyof typeof WorkflowErrorName];

/**
 * SageMaker Runtime / network errors that are worth retrying (the endpoint is busy, restarting or
 * briefly unreachable). classify lets them propagate unchanged so the state machine's Retry on
 * the Classify step can handle them.
 */
export const TRANSIENT_ENDPOINT_ERRORS = [
  'ServiceUnavailable',
  'ThrottlingException',
  'InternalFailure',
  'InternalDependencyException',
  'ModelNotReadyException',
  'TimeoutError',
  'ECONNREFUSED',
  'ECONNRESET',
] as const;

/** Lambda service errors Step Functions documents as retryable for `lambda:invoke` tasks. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;
