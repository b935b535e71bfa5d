import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Client, putObjects } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { LocalWorkflowRunner } from './local-runner';
import { createS3ObjectLister, createSnsPublisher, type Notification } from './local-integrations';
import { TaskFailure } from './task-failure';
import { BatchErrorName, buildBatchWorkflowDefinition, LOCAL_FUNCTION_NAMES, LOCAL_NOTIFY_TOPIC_ARN } from './workflow-definition';

describe('createSnsPublisher', () => {
  it('serialises an object message as Step Functions does and answers with a MessageId', async () => {
    const delivered: Notification[] = [];
    const publish = createSnsPublisher((n) => delivered.push(n));
    const result = await publish({ TopicArn: LOCAL_NOTIFY_TOPIC_ARN, Subject: 'failed', Message: { error: 'E', n: 1 } });
    expect(delivered).toEqual([{ topicArn: LOCAL_NOTIFY_TOPIC_ARN, subject: 'failed', message: '{"error":"E","n":1}', messageId: result.MessageId, publishedAt: expect.any(String) }]);
    await publish({ TopicArn: LOCAL_NOTIFY_TOPIC_ARN, Message: 'plain text' });
    expect(delivered[1].message).toBe('plain text');
  });

  it.each([
    [{ Message: 'm' }, /TopicArn/],
    [{ TopicArn: LOCAL_NOTIFY_TOPIC_ARN, Message: '' }, /Empty message/],
    [{ TopicArn: LOCAL_NOTIFY_TOPIC_ARN, Message: 'm', Subject: 's'.repeat(101) }, /Subject/],
  ])('rejects bad parameters %j as SNS.InvalidParameterException', async (parameters, message) => {
    const publish = createSnsPublisher(() => undefined);
    await expect(publish(parameters)).rejects.toThrow(message);
    await expect(publish(parameters)).rejects.toMatchObject({ name: 'SNS.InvalidParameterException' });
  });
});

describe('listing with the embedded S3', () => {
  let s3: LocalS3;
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'workflow-s3-'));
    s3 = await startLocalS3({ directory, buckets: ['scones'] });
    const keys = ['data/test/a.png', 'data/test/b.png', 'data/test/c.png', 'data/train/x.png'];
    await putObjects(createS3Client(s3.target), 'scones', keys.map((key) => ({ key, body: key })));
  });
  afterAll(async () => {
    await s3.stop();
    await rm(directory, { recursive: true, force: true });
  });

  it('answers like ListObjectsV2: one page, IsTruncated, no Contents when nothing matches', async () => {
    const list = createS3ObjectLister(createS3Client(s3.target));
    const all = await list({ Bucket: 'scones', Prefix: 'data/test/' });
    expect(all).toMatchObject({ Name: 'scones', Prefix: 'data/test/', KeyCount: 3, IsTruncated: false });
    expect(all.Contents!.map((o) => o.Key)).toEqual(['data/test/a.png', 'data/test/b.png', 'data/test/c.png']);
    expect(await list({ Bucket: 'scones', Prefix: 'data/test/', MaxKeys: 2 })).toMatchObject({ KeyCount: 2, IsTruncated: true });
    const none = await list({ Bucket: 'scones', Prefix: 'nothing/' });
    expect(none).toMatchObject({ KeyCount: 0, IsTruncated: false });
    expect(none).not.toHaveProperty('Contents');
  });

  it('fails with S3.<Name>Exception for a missing bucket', async () => {
    const failure = await createS3ObjectLister(createS3Client(s3.target))({ Bucket: 'no-such-bucket', Prefix: '' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TaskFailure);
    expect(failure).toMatchObject({ name: 'S3.NoSuchBucketException' });
  });

  describe('the batch definition with s3_prefix', () => {
    const seen: string[] = [];
    const handlers = {
      [LOCAL_FUNCTION_NAMES.serialize]: async (event: unknown) => {
        const { s3_bucket, s3_key } = event as { s3_bucket: string; s3_key: string };
        seen.push(s3_key);
        return { statusCode: 200, body: { image_data: '', s3_bucket, s3_key, inferences: [] } };
      },
      [LOCAL_FUNCTION_NAMES.classify]: async (event: unknown) => ({ statusCode: 200, body: { ...(event as { body: object }).body, inferences: [0.9, 0.1] } }),
      [LOCAL_FUNCTION_NAMES.filter]: async (event: unknown) => event,
    };
    const runner = () =>
      new LocalWorkflowRunner(buildBatchWorkflowDefinition({ functions: LOCAL_FUNCTION_NAMES, notifyTopicArn: LOCAL_NOTIFY_TOPIC_ARN }), { handlers, s3: createS3Client(s3.target) });

    it('lists the prefix in a state and classifies every object under it', async () => {
      const outcome = await runner().execute({ s3_bucket: 'scones', s3_prefix: 'data/test/' });
      expect(outcome.status).toBe('SUCCEEDED');
      expect((outcome.output as { results: Array<{ s3_key: string }> }).results.map((r) => r.s3_key)).toEqual(['data/test/a.png', 'data/test/b.png', 'data/test/c.png']);
      expect(seen.sort()).toEqual(['data/test/a.png', 'data/test/b.png', 'data/test/c.png']);
      expect(outcome.history!.some((e) => e.type === 'StateExited' && e.stateName === 'List images')).toBe(true);
    });

    it('fails with NoImagesFound when the prefix is empty, and publishes the failure', async () => {
      const outcome = await runner().execute({ s3_bucket: 'scones', s3_prefix: 'data/nothing/' });
      expect(outcome).toMatchObject({ status: 'FAILED', error: BatchErrorName.NoImagesFound, cause: 'no object under s3_prefix' });
      expect(outcome.notifications).toHaveLength(1);
      expect(outcome.notifications![0]).toMatchObject({ topicArn: LOCAL_NOTIFY_TOPIC_ARN, subject: 'Scones batch classification failed' });
      expect(JSON.parse(outcome.notifications![0].message)).toMatchObject({ error: BatchErrorName.NoImagesFound, input: { s3_prefix: 'data/nothing/' } });
    });

    it('publishes a failed listing (no such bucket) and fails with its error', async () => {
      const outcome = await runner().execute({ s3_bucket: 'no-such-bucket', s3_prefix: 'data/' });
      expect(outcome.status).toBe('FAILED');
      expect(outcome.error).toMatch(/NoSuchBucket/);
      expect(outcome.notifications).toHaveLength(1);
    });
  });
});
