/** The production variant header SageMaker adds to every InvokeEndpoint answer. */
export const INVOKED_VARIANT_HEADER = 'X-Amzn-Invoked-Production-Variant';

/** Account id shown in AWS-style error messages of the local endpoint. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/**
 * An error answer of the SageMaker Runtime API (restJson1): the status, the error code in the
 * `x-amzn-ErrorType` header (the SDKs' deserializers read it first, then `__type` in the body),
 * and the modeled members in the body. The JS SDK v3 then throws e.g. `ValidationError` with
 * `$metadata.httpStatusCode` = status; boto3 raises `client.exceptions.ValidationError`.
 */
export interface AwsErrorAnswer {
  status: number;
  code: 'ValidationError' | 'ModelError' | 'ServiceUnavailable' | 'InternalFailure' | 'ThrottlingException';
  message: string;
  /** Extra modeled members, e.g. ModelError's OriginalStatusCode and OriginalMessage. */
  members?: Record<string, string | number>;
}

export function unknownEndpointError(name: string): AwsErrorAnswer {
  return { status: 400, code: 'ValidationError', message: `Endpoint ${name} of account ${LOCAL_ACCOUNT_ID} not found.` };
}

/**
 * What SageMaker answers when the container rejects a request with a 4xx: a 424 ModelError that
 * carries the container's status and message (as AWS does: "Received client error (415) from
 * primary with message ...").
 */
export function modelClientError(endpointName: string, originalStatus: number, originalMessage: string): AwsErrorAnswer {
  return {
    status: 424,
    code: 'ModelError',
    message: `Received client error (${originalStatus}) from primary with message "${originalMessage}". See the endpoint's log for ${endpointName} for more information.`,
    members: { OriginalStatusCode: originalStatus, OriginalMessage: originalMessage },
  };
}

export function awsErrorBody(answer: AwsErrorAnswer): string {
  return JSON.stringify({ __type: answer.code, message: answer.message, Message: answer.message, ...answer.members });
}
