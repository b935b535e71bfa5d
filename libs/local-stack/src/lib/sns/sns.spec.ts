import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListSubscriptionsCommand,
  ListTopicsCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
  paginateListTopics,
} from '@aws-sdk/client-sns';
import { startTestStack, type TestStack } from '../../testing';
import type { SnsService } from './sns-service';

// Generous: the machine is shared, and a stack starts and stops within some tests.
jest.setTimeout(60_000);

function client(stack: TestStack, region = 'us-east-1'): SNSClient {
  return new SNSClient({ endpoint: stack.url, region, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
}

/** Waits for a condition with a generous deadline (deliveries run in the background). */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SNS', () => {
  let stack: TestStack;
  let sns: SNSClient;
  let scratch: string;
  beforeAll(async () => {
    stack = await startTestStack({ services: ['sns'] });
    sns = client(stack);
    scratch = await mkdtemp(join(tmpdir(), 'sns-spec-'));
  });
  afterAll(async () => {
    sns.destroy();
    await stack.dispose();
    await rm(scratch, { recursive: true, force: true });
  });
  const service = () => stack.service<SnsService>('sns')!;

  it('creates a topic idempotently, lists it and describes it', async () => {
    const first = await sns.send(new CreateTopicCommand({ Name: 'orders', Attributes: { DisplayName: 'Orders' } }));
    const again = await sns.send(new CreateTopicCommand({ Name: 'orders', Attributes: { DisplayName: 'Orders' } }));
    expect(first.TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:orders');
    expect(again.TopicArn).toBe(first.TopicArn);
    await expect(sns.send(new CreateTopicCommand({ Name: 'orders', Attributes: { DisplayName: 'Other' } }))).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('different attributes') });
    const listed = await sns.send(new ListTopicsCommand({}));
    expect(listed.Topics).toContainEqual({ TopicArn: first.TopicArn });
    const attributes = await sns.send(new GetTopicAttributesCommand({ TopicArn: first.TopicArn }));
    expect(attributes.Attributes).toMatchObject({ TopicArn: first.TopicArn, DisplayName: 'Orders', Owner: '000000000000', SubscriptionsConfirmed: '0' });
  });

  it('names the region of the signing scope in the topic ARN', async () => {
    const west = client(stack, 'eu-west-1');
    const { TopicArn } = await west.send(new CreateTopicCommand({ Name: 'orders' }));
    expect(TopicArn).toBe('arn:aws:sns:eu-west-1:000000000000:orders');
    west.destroy();
  });

  it('publishes with a subject and attributes, keeps every message and counts them', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'kept' }));
    const published = await sns.send(
      new PublishCommand({
        TopicArn,
        Subject: 'Hello',
        Message: '{"error":"THRESHOLD_CONFIDENCE_NOT_MET"}',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'failure' }, blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) } },
      }),
    );
    expect(published.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    await service().publish({ topicArn: TopicArn!, message: 'second' });
    const messages = await service().listMessages(TopicArn!);
    expect(messages).toEqual([
      expect.objectContaining({
        MessageId: published.MessageId,
        TopicArn,
        Subject: 'Hello',
        Message: '{"error":"THRESHOLD_CONFIDENCE_NOT_MET"}',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'failure' }, blob: { DataType: 'Binary', BinaryValue: 'AQID' } },
        Timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      }),
      expect.objectContaining({ Message: 'second' }),
    ]);
    const status = await service().status();
    expect(status.topics.find((t) => t.topicArn === TopicArn)).toMatchObject({ messages: 2, subscriptions: 0 });
    // The messages file is plain JSON lines, readable without the stack.
    const file = status.topics.find((t) => t.topicArn === TopicArn)!.messagesFile;
    expect((await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).MessageId)).toEqual([published.MessageId, messages[1].MessageId]);
  });

  it('refuses bad input with SNS errors that name the parameter', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'strict' }));
    await expect(sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:missing', Message: 'x' }))).rejects.toMatchObject({ name: 'NotFoundException', message: 'Topic does not exist' });
    await expect(sns.send(new PublishCommand({ TopicArn, Message: '' }))).rejects.toMatchObject({ name: 'InvalidParameterException', message: 'Invalid parameter: Empty message' });
    await expect(sns.send(new PublishCommand({ TopicArn, Message: 'x', Subject: 'two\nlines' }))).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('Subject') });
    await expect(sns.send(new PublishCommand({ TopicArn, Message: 'x'.repeat(256 * 1024 + 1) }))).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('too long') });
    await expect(sns.send(new PublishCommand({ TopicArn, Message: '{"http":"x"}', MessageStructure: 'json' }))).rejects.toMatchObject({ message: expect.stringContaining('No default entry') });
    await expect(sns.send(new PublishCommand({ PhoneNumber: '+15555550100', Message: 'x' }))).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('SMS') });
    await expect(sns.send(new CreateTopicCommand({ Name: 'bad name' }))).rejects.toMatchObject({ name: 'InvalidParameterException', message: 'Invalid parameter: Topic Name' });
    await expect(sns.send(new CreateTopicCommand({ Name: 'queue.fifo', Attributes: { FifoTopic: 'true' } }))).rejects.toMatchObject({ message: expect.stringContaining('FIFO') });
    await expect(sns.send(new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: 'a@example.com' }))).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('file (a local path), http and https') });
    await expect(sns.send(new SubscribeCommand({ TopicArn, Protocol: 'file', Endpoint: 'relative/out.jsonl' }))).rejects.toMatchObject({ message: expect.stringContaining('absolute path') });
    await expect(sns.send(new SubscribeCommand({ TopicArn, Protocol: 'file', Endpoint: join(stack.dataDir, 'sns', 'state.json') }))).rejects.toMatchObject({ message: expect.stringContaining("inside the stack's data directory") });
    await expect(sns.send(new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: 'https://example.com/' }))).rejects.toMatchObject({ message: expect.stringContaining('http:// URL') });
    await expect(sns.send(new UnsubscribeCommand({ SubscriptionArn: `${TopicArn}:nope` }))).rejects.toMatchObject({ name: 'NotFoundException' });
    // Deleting a topic that does not exist succeeds, as on AWS.
    await sns.send(new DeleteTopicCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:never' }));
  });

  it('appends each message to a file subscription as the notification JSON', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'to-file' }));
    const file = join(scratch, 'deep', 'notifications.jsonl');
    const { SubscriptionArn } = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'file', Endpoint: `file://${file}` }));
    const again = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'file', Endpoint: file }));
    expect(again.SubscriptionArn).toBe(SubscriptionArn);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await sns.send(new PublishCommand({ TopicArn, Message: `m${i}`, Subject: 'S' }))).MessageId!);
    await service().idle();
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.MessageId)).toEqual(ids);
    expect(lines[0]).toEqual({
      Type: 'Notification',
      MessageId: ids[0],
      TopicArn,
      Subject: 'S',
      Message: 'm0',
      Timestamp: expect.any(String),
      SignatureVersion: '1',
      Signature: '',
      SigningCertURL: '',
      UnsubscribeURL: expect.stringContaining(encodeURIComponent(SubscriptionArn!)),
    });
    const byTopic = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    expect(byTopic.Subscriptions).toEqual([{ SubscriptionArn, TopicArn, Protocol: 'file', Endpoint: file, Owner: '000000000000' }]);
    await sns.send(new UnsubscribeCommand({ SubscriptionArn }));
    expect((await sns.send(new ListSubscriptionsCommand({}))).Subscriptions?.some((s) => s.SubscriptionArn === SubscriptionArn)).toBe(false);
  });

  describe('http subscription', () => {
    let server: Server;
    let endpoint: string;
    const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    let failNext = 0;
    beforeAll(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (failNext > 0) {
            failNext--;
            res.writeHead(500).end();
            return;
          }
          received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          res.writeHead(200).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sns`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('POSTs the notification with the x-amz-sns headers, and retries an endpoint that failed', async () => {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'to-http' }));
      const { SubscriptionArn } = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: endpoint }));
      failNext = 1;
      const { MessageId } = await sns.send(new PublishCommand({ TopicArn, Message: 'over http', MessageAttributes: { n: { DataType: 'Number', StringValue: '3' } } }));
      const delivery = await eventually(async () => received.find((r) => r.headers['x-amz-sns-message-id'] === MessageId), 'the HTTP delivery');
      expect(delivery.headers).toMatchObject({
        'x-amz-sns-message-type': 'Notification',
        'x-amz-sns-topic-arn': TopicArn,
        'x-amz-sns-subscription-arn': SubscriptionArn,
        'content-type': 'text/plain; charset=UTF-8',
      });
      expect(JSON.parse(delivery.body)).toMatchObject({ Type: 'Notification', MessageId, TopicArn, Message: 'over http', MessageAttributes: { n: { Type: 'Number', Value: '3' } } });
      expect(failNext).toBe(0);
    });

    it('posts the bare message with RawMessageDelivery', async () => {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'to-http-raw' }));
      await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: `${endpoint}?raw`, Attributes: { RawMessageDelivery: 'true' } }));
      const { MessageId } = await sns.send(new PublishCommand({ TopicArn, Message: '{"default":"plain","http":"for http"}', MessageStructure: 'json' }));
      const delivery = await eventually(async () => received.find((r) => r.headers['x-amz-sns-message-id'] === MessageId), 'the raw HTTP delivery');
      expect(delivery.body).toBe('for http');
    });
  });

  it('deletes a topic with its subscriptions and kept messages', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'short-lived' }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'file', Endpoint: join(scratch, 'short.jsonl') }));
    await sns.send(new PublishCommand({ TopicArn, Message: 'x' }));
    await service().idle();
    await sns.send(new DeleteTopicCommand({ TopicArn }));
    expect((await sns.send(new ListTopicsCommand({}))).Topics?.some((t) => t.TopicArn === TopicArn)).toBe(false);
    expect((await sns.send(new ListSubscriptionsCommand({}))).Subscriptions?.some((s) => s.TopicArn === TopicArn)).toBe(false);
    await expect(service().listMessages(TopicArn!)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('pages ListTopics 100 at a time', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `page-${String(i).padStart(3, '0')}`);
    for (const Name of names) await sns.send(new CreateTopicCommand({ Name }));
    const first = await sns.send(new ListTopicsCommand({}));
    expect(first.Topics).toHaveLength(100);
    expect(first.NextToken).toBeDefined();
    const all: string[] = [];
    for await (const page of paginateListTopics({ client: sns }, {})) all.push(...(page.Topics ?? []).map((t) => t.TopicArn!));
    expect(new Set(all).size).toBe(all.length);
    for (const name of names) expect(all).toContain(`arn:aws:sns:us-east-1:000000000000:${name}`);
    await expect(sns.send(new ListTopicsCommand({ NextToken: 'bm90IGEgdG9waWM' }))).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('NextToken') });
  });
});

describe('SNS persistence', () => {
  it('keeps topics, subscriptions and messages across down/up', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sns-persist-'));
    const out = join(await mkdtemp(join(tmpdir(), 'sns-persist-out-')), 'n.jsonl');
    try {
      let stack = await startTestStack({ services: ['sns'], dataDir });
      let sns = client(stack);
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'durable' }));
      const { SubscriptionArn } = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'file', Endpoint: out }));
      await sns.send(new PublishCommand({ TopicArn, Message: 'before restart' }));
      sns.destroy();
      await stack.dispose();

      stack = await startTestStack({ services: ['sns'], dataDir });
      sns = client(stack);
      expect((await sns.send(new ListTopicsCommand({}))).Topics).toEqual([{ TopicArn }]);
      expect((await sns.send(new ListSubscriptionsCommand({}))).Subscriptions?.map((s) => s.SubscriptionArn)).toEqual([SubscriptionArn]);
      await sns.send(new PublishCommand({ TopicArn, Message: 'after restart' }));
      const service = stack.service<SnsService>('sns')!;
      await service.idle();
      expect((await service.listMessages(TopicArn!)).map((m) => m.Message)).toEqual(['before restart', 'after restart']);
      expect((await service.status()).topics).toEqual([expect.objectContaining({ topicArn: TopicArn, messages: 2, subscriptions: 1 })]);
      expect((await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).Message)).toEqual(['before restart', 'after restart']);
      sns.destroy();
      await stack.dispose();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await rm(join(out, '..'), { recursive: true, force: true });
    }
  });
});
