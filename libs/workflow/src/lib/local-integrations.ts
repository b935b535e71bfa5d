import { randomUUID } from 'node:crypto';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { TaskFailure } from './task-failure';

/** One message the `sns:publish` task published. */
export interface Notification {
  topicArn: string;
  subject?: string;
  /** The message as SNS delivers it: a JSON object parameter is serialised, as Step Functions does. */
  message: string;
  messageId: string;
  publishedAt: string;
}

/** What the `arn:aws:states:::sns:publish` integration returns. */
export interface SnsPublishResult {
  MessageId: string;
  SdkHttpMetadata: { HttpStatusCode: number };
  SdkResponseMetadata: { RequestId: string };
}

/**
 * The `sns:publish` task against a local stand-in for the topic: validates the parameters like
 * SNS, calls `deliver` with the message (the runner records it on the execution), and answers
 * like the integration.
 */
export function createSnsPublisher(deliver: (notification: Notification) => void): (parameters: unknown) => Promise<SnsPublishResult> {
  return async (parameters) => {
    const { TopicArn, Message, Subject } = (parameters ?? {}) as { TopicArn?: unknown; Message?: unknown; Subject?: unknown };
    if (typeof TopicArn !== 'string' || !TopicArn.startsWith('arn:')) {
      throw new TaskFailure('SNS.InvalidParameterException', `Invalid parameter: TopicArn: expected a topic ARN, got ${JSON.stringify(TopicArn)}`);
    }
    if (Message === undefined || Message === null || Message === '') {
      throw new TaskFailure('SNS.InvalidParameterException', 'Invalid parameter: Empty message');
    }
    if (Subject !== undefined && (typeof Subject !== 'string' || Subject.length > 100)) {
      throw new TaskFailure('SNS.InvalidParameterException', 'Invalid parameter: Subject: expected at most 100 characters');
    }
    const messageId = randomUUID();
    deliver({
      topicArn: TopicArn,
      ...(Subject !== undefined ? { subject: Subject as string } : {}),
      message: typeof Message === 'string' ? Message : JSON.stringify(Message),
      messageId,
      publishedAt: new Date().toISOString(),
    });
    return { MessageId: messageId, SdkHttpMetadata: { HttpStatusCode: 200 }, SdkResponseMetadata: { RequestId: randomUUID() } };
  };
}

/** The part of a ListObjectsV2 answer the batch definition reads. */
export interface ListObjectsV2Result {
  Name: string;
  Prefix: string;
  KeyCount: number;
  MaxKeys: number;
  IsTruncated: boolean;
  /** Absent when nothing matched, as in the S3 API. */
  Contents?: Array<{ Key: string; Size: number; ETag: string; LastModified?: string }>;
}

/**
 * The `aws-sdk:s3:listObjectsV2` task against an S3 endpoint, for the in-process runner. One page,
 * like the integration. S3 errors fail the task as `S3.<Name>Exception`, the AWS SDK
 * integration's naming.
 */
export function createS3ObjectLister(s3: S3Client): (parameters: unknown) => Promise<ListObjectsV2Result> {
  return async (parameters) => {
    const { Bucket, Prefix = '', MaxKeys = 1000 } = (parameters ?? {}) as { Bucket?: unknown; Prefix?: unknown; MaxKeys?: unknown };
    if (typeof Bucket !== 'string' || Bucket === '') throw new TaskFailure('S3.InvalidParameterException', `Bucket: expected a bucket name, got ${JSON.stringify(Bucket)}`);
    if (typeof Prefix !== 'string') throw new TaskFailure('S3.InvalidParameterException', `Prefix: expected a string, got ${JSON.stringify(Prefix)}`);
    if (typeof MaxKeys !== 'number' || !Number.isInteger(MaxKeys) || MaxKeys < 0) throw new TaskFailure('S3.InvalidParameterException', `MaxKeys: expected an integer >= 0, got ${JSON.stringify(MaxKeys)}`);
    let page;
    try {
      page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix, MaxKeys }));
    } catch (error) {
      const { name, message } = error as Error;
      const errorName = name.endsWith('Exception') ? name : `${name}Exception`;
      throw new TaskFailure(`S3.${errorName}`, `${message} (Service: S3, Bucket: ${Bucket})`);
    }
    const contents = (page.Contents ?? []).map((o) => ({
      Key: o.Key ?? '',
      Size: o.Size ?? 0,
      ETag: o.ETag ?? '',
      ...(o.LastModified ? { LastModified: o.LastModified.toISOString() } : {}),
    }));
    return {
      Name: Bucket,
      Prefix,
      KeyCount: contents.length,
      MaxKeys,
      IsTruncated: page.IsTruncated === true,
      ...(contents.length > 0 ? { Contents: contents } : {}),
    };
  };
}
