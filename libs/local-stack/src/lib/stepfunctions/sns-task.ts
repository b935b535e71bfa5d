import { randomUUID } from 'node:crypto';
import { TaskFailure, type SnsPublishResult } from '@scones/workflow';
import { AwsError } from '@scones/stack-core';
import type { MessageAttribute, SnsService } from '../sns/sns-service';

/**
 * `arn:aws:states:::sns:publish` against the stack's SNS: Parameters as the Publish API takes
 * them (an object `Message` is sent as its JSON text, as Step Functions sends it), the
 * integration's `{MessageId, SdkHttpMetadata, SdkResponseMetadata}` out. SNS errors fail the task
 * as `SNS.<Code>Exception` (`SNS.NotFoundException`, `SNS.InvalidParameterException`).
 */
export async function publishSnsIntegration(parameters: unknown, sns: SnsService | undefined): Promise<SnsPublishResult> {
  const requestId = randomUUID();
  const params = (parameters ?? {}) as Record<string, unknown>;
  const fail = (code: string, message: string, status: number): never => {
    throw new TaskFailure(`SNS.${code.endsWith('Exception') ? code : `${code}Exception`}`, `${message} (Service: AmazonSNS; Status Code: ${status}; Error Code: ${code}; Request ID: ${requestId}; Proxy: null)`);
  };
  if (!sns) return fail('InternalError', 'the local stack runs without its sns service', 500);
  if (params.PhoneNumber !== undefined) return fail('InvalidParameter', 'Invalid parameter: PhoneNumber Reason: the local stack does not send SMS', 400);
  const topicArn = params.TopicArn ?? params.TargetArn;
  if (typeof topicArn !== 'string') return fail('InvalidParameter', `Invalid parameter: TopicArn or TargetArn Reason: expected a topic ARN, got ${JSON.stringify(topicArn)}`, 400);
  const message = params.Message;
  const subject = params.Subject;
  if (subject !== undefined && typeof subject !== 'string') return fail('InvalidParameter', 'Invalid parameter: Subject Reason: expected a string', 400);
  const structure = params.MessageStructure;
  if (structure !== undefined && typeof structure !== 'string') return fail('InvalidParameter', 'Invalid parameter: MessageStructure Reason: expected "json"', 400);
  try {
    const { messageId } = await sns.publish({
      topicArn,
      message: typeof message === 'string' ? message : message === undefined || message === null ? '' : JSON.stringify(message),
      ...(subject !== undefined ? { subject } : {}),
      ...(structure !== undefined ? { messageStructure: structure } : {}),
      ...(params.MessageAttributes !== undefined ? { messageAttributes: messageAttributes(params.MessageAttributes, fail) } : {}),
    });
    return { MessageId: messageId, SdkHttpMetadata: { HttpStatusCode: 200 }, SdkResponseMetadata: { RequestId: requestId } };
  } catch (error) {
    if (error instanceof AwsError) return fail(error.code, error.message, error.status);
    throw error;
  }
}

function messageAttributes(value: unknown, fail: (code: string, message: string, status: number) => never): Record<string, MessageAttribute> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('InvalidParameter', 'Invalid parameter: MessageAttributes Reason: expected an object of {DataType, StringValue | BinaryValue}', 400);
  const attributes: Record<string, MessageAttribute> = {};
  for (const [name, attribute] of Object.entries(value as Record<string, unknown>)) {
    const a = (attribute ?? {}) as Record<string, unknown>;
    if (typeof a.DataType !== 'string') fail('InvalidParameter', `Invalid parameter: MessageAttributes Reason: attribute '${name}' needs a DataType`, 400);
    attributes[name] = {
      DataType: a.DataType as string,
      ...(a.StringValue !== undefined ? { StringValue: String(a.StringValue) } : {}),
      ...(a.BinaryValue !== undefined ? { BinaryValue: String(a.BinaryValue) } : {}),
    };
  }
  return attributes;
}
