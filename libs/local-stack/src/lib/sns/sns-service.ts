import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArn } from '@scones/stack-core';
import { AwsError } from '@scones/stack-core';
import type { RequestContext } from '@scones/stack-core';
import { awsQueryHandler, queryMap } from '@scones/stack-core';
import type { XmlNode } from '@scones/stack-core';
import type { StackContext, StackService } from '@scones/stack-core';
import { hasControlCharacters } from '../stepfunctions/text';
import { writeFileAtomic } from '@scones/stack-core';
import { Deliveries, type MessageAttribute, type PublishedMessage, type Subscription } from './sns-delivery';

export type { PublishedMessage, MessageAttribute, Subscription } from './sns-delivery';

/** What the in-process {@link SnsService.publish} takes (the Publish parameters). */
export interface PublishInput {
  topicArn: string;
  message: string;
  subject?: string;
  messageStructure?: string;
  messageAttributes?: Record<string, MessageAttribute>;
}

export interface TopicStatus {
  topicArn: string;
  messages: number;
  subscriptions: number;
  /** Where the topic's messages are kept, one JSON line each. */
  messagesFile: string;
}

/** The SNS service of the stack, with its in-process API (Step Functions' `sns:publish`, `scones status`). */
export interface SnsService extends StackService {
  publish(input: PublishInput): Promise<{ messageId: string }>;
  /** Every message published to the topic, oldest first. */
  listMessages(topicArn: string): Promise<PublishedMessage[]>;
  status(): Promise<{ topics: TopicStatus[]; deliveryFailures: number }>;
  /** Resolves when every delivery started so far is done (tests, shutdown). */
  idle(): Promise<void>;
}

interface Topic {
  TopicArn: string;
  Name: string;
  Attributes: Record<string, string>;
  CreatedAt: string;
}

interface SnsState {
  topics: Topic[];
  subscriptions: Subscription[];
}

export interface SnsServiceOptions {
  /** Delays before HTTP delivery retries (default 1 s, 2 s). */
  httpRetryDelaysMs?: readonly number[];
}

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
// Regions become directory names: only what a region can look like.
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const MAX_MESSAGE_BYTES = 256 * 1024;
const PAGE = 100;
const ATTRIBUTE_TYPE = /^(String|Number|Binary)(\..+)?$|^String\.Array$/;
/** Topic attributes CreateTopic/SetTopicAttributes take; FifoTopic is refused (no FIFO semantics here). */
const TOPIC_ATTRIBUTES = ['DisplayName', 'Policy', 'DeliveryPolicy', 'KmsMasterKeyId', 'TracingConfig', 'SignatureVersion', 'ArchivePolicy', 'DataProtectionPolicy'];

const notFound = (what = 'Topic does not exist') => new AwsError('NotFound', what, 404);
const invalid = (what: string) => new AwsError('InvalidParameter', `Invalid parameter: ${what}`, 400);

/**
 * SNS on the local stack (query protocol): topics, Publish, and subscriptions that deliver to a
 * local file (`file`, the stack's own protocol: one JSON line per message) or an HTTP endpoint
 * (`http`/`https`, confirmed at once). Every published message is also kept, one JSON line each,
 * in `<dataDir>/sns/messages/<region>/<topic>.jsonl`, so a workflow's failure notifications can
 * be read back (`listMessages`, `scones status`).
 */
export function createSnsService(stack: StackContext, options: SnsServiceOptions = {}): SnsService {
  const root = join(stack.dataDir, 'sns');
  const stateFile = join(root, 'state.json');
  let state: SnsState = { topics: [], subscriptions: [] };
  const counts = new Map<string, number>();
  const appends = new Map<string, Promise<void>>();
  let saving: Promise<void> = Promise.resolve();
  // stack.url is known only once the stack listens, after the services are created.
  const deliveries = new Deliveries({ stackUrl: () => stack.url, logger: stack.logger, retryDelaysMs: options.httpRetryDelaysMs });

  const save = () => {
    const snapshot = `${JSON.stringify(state, null, 2)}\n`;
    saving = saving.catch(() => undefined).then(() => writeFileAtomic(stateFile, snapshot));
    return saving;
  };
  const messagesFile = (topicArn: string) => {
    const arn = parseArn(topicArn);
    const name = arn?.resource ?? '';
    // 256-character names leave no room for the extension in a 255-byte file name.
    const base = name.length <= 240 ? name : `${name.slice(0, 200)}-${Buffer.from(name).toString('base64url').slice(-16)}`;
    return join(root, 'messages', arn?.region ?? 'unknown', `${base}.jsonl`);
  };
  const topicByArn = (topicArn: string): Topic | undefined => {
    const exact = state.topics.find((t) => t.TopicArn === topicArn);
    if (exact) return exact;
    // A definition exported from another account names the topic with that account id.
    const arn = parseArn(topicArn);
    if (!arn || arn.service !== 'sns') return undefined;
    return state.topics.find((t) => t.TopicArn === `arn:${arn.partition}:sns:${arn.region}:${stack.accountId}:${arn.resource}`);
  };
  const requireTopic = (topicArn: string | null | undefined, field = 'TopicArn'): Topic => {
    if (!topicArn) throw invalid(`${field}`);
    const arn = parseArn(topicArn);
    if (!arn || arn.service !== 'sns' || !TOPIC_NAME.test(arn.resource)) throw invalid(`${field} Reason: ${JSON.stringify(topicArn)} is not a topic ARN`);
    const topic = topicByArn(topicArn);
    if (!topic) throw notFound();
    return topic;
  };
  const regionOf = (ctx: RequestContext) => {
    if (!REGION.test(ctx.region)) throw invalid(`region ${JSON.stringify(ctx.region)} (from the request's signing scope) is not a region name`);
    return ctx.region;
  };

  async function publish(input: PublishInput): Promise<{ messageId: string }> {
    const topic = requireTopic(input.topicArn);
    if (typeof input.message !== 'string' || input.message.length === 0) throw invalid('Empty message');
    if (input.subject !== undefined && (input.subject.length === 0 || input.subject.length > 100 || hasControlCharacters(input.subject))) throw invalid('Subject Reason: expected 1-100 characters without line breaks or control characters');
    if (input.messageStructure !== undefined && input.messageStructure !== 'json') throw invalid(`MessageStructure Reason: the only value is "json", got ${JSON.stringify(input.messageStructure)}`);
    if (input.messageStructure === 'json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(input.message);
      } catch {
        throw invalid('Message Structure - No default entry in JSON message body');
      }
      if (parsed === null || typeof parsed !== 'object' || typeof (parsed as Record<string, unknown>).default !== 'string') throw invalid('Message Structure - No default entry in JSON message body');
    }
    const attributes = input.messageAttributes ?? {};
    if (Object.keys(attributes).length > 10) throw invalid('MessageAttributes Reason: at most 10 attributes');
    for (const [name, attribute] of Object.entries(attributes)) {
      if (!ATTRIBUTE_TYPE.test(attribute.DataType ?? '')) throw invalid(`MessageAttributes Reason: attribute '${name}' has an invalid DataType ${JSON.stringify(attribute.DataType)} (String, String.Array, Number or Binary)`);
      const binary = attribute.DataType.startsWith('Binary');
      if (binary ? attribute.BinaryValue === undefined : attribute.StringValue === undefined) throw invalid(`MessageAttributes Reason: attribute '${name}' must contain a non-empty ${binary ? 'BinaryValue' : 'StringValue'}`);
    }
    const size = Buffer.byteLength(input.message) + Object.entries(attributes).reduce((n, [k, a]) => n + Buffer.byteLength(k) + Buffer.byteLength(a.DataType) + Buffer.byteLength(a.StringValue ?? a.BinaryValue ?? ''), 0);
    if (size > MAX_MESSAGE_BYTES) throw invalid(`Message too long (${size} bytes; the limit is ${MAX_MESSAGE_BYTES})`);

    const message: PublishedMessage = {
      MessageId: randomUUID(),
      TopicArn: topic.TopicArn,
      ...(input.subject !== undefined ? { Subject: input.subject } : {}),
      Message: input.message,
      ...(input.messageStructure === 'json' ? { MessageStructure: 'json' as const } : {}),
      ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
      Timestamp: new Date().toISOString(),
    };
    await keep(message);
    for (const subscription of state.subscriptions) if (subscription.TopicArn === topic.TopicArn) deliveries.deliver(message, subscription);
    stack.logger.debug('sns message published', { topicArn: topic.TopicArn, messageId: message.MessageId });
    return { messageId: message.MessageId };
  }

  /** Appends the message to its topic's JSON-lines file; appends to one file stay in publish order. */
  async function keep(message: PublishedMessage): Promise<void> {
    const file = messagesFile(message.TopicArn);
    const previous = appends.get(file) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(async () => {
      await mkdir(join(file, '..'), { recursive: true });
      await appendFile(file, `${JSON.stringify(message)}\n`);
    });
    appends.set(file, next);
    await next;
    counts.set(message.TopicArn, (counts.get(message.TopicArn) ?? 0) + 1);
  }

  async function readMessages(topicArn: string): Promise<PublishedMessage[]> {
    let text: string;
    try {
      text = await readFile(messagesFile(topicArn), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const messages: PublishedMessage[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        messages.push(JSON.parse(line) as PublishedMessage);
      } catch {
        // A line cut short by a crash mid-append: the rest of the file is intact.
      }
    }
    return messages;
  }

  const page = <T>(items: T[], token: string | null, keyOf: (item: T) => string): { items: T[]; next?: string } => {
    let start = 0;
    if (token) {
      const after = Buffer.from(token, 'base64url').toString('utf8');
      const index = items.findIndex((item) => keyOf(item) === after);
      if (index < 0) throw invalid('NextToken');
      start = index + 1;
    }
    const slice = items.slice(start, start + PAGE);
    const more = start + PAGE < items.length;
    return { items: slice, ...(more ? { next: Buffer.from(keyOf(slice[slice.length - 1])).toString('base64url') } : {}) };
  };

  const topicAttributes = (topic: Topic): Record<string, string> => {
    const subscriptions = state.subscriptions.filter((s) => s.TopicArn === topic.TopicArn).length;
    return {
      TopicArn: topic.TopicArn,
      Owner: stack.accountId,
      DisplayName: '',
      SubscriptionsConfirmed: String(subscriptions),
      SubscriptionsPending: '0',
      SubscriptionsDeleted: '0',
      Policy: JSON.stringify({
        Version: '2008-10-17',
        Id: '__default_policy_ID',
        Statement: [{ Sid: '__default_statement_ID', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['SNS:Publish', 'SNS:Subscribe', 'SNS:GetTopicAttributes'], Resource: topic.TopicArn, Condition: { StringEquals: { 'AWS:SourceOwner': stack.accountId } } }],
      }),
      EffectiveDeliveryPolicy: JSON.stringify({ http: { defaultHealthyRetryPolicy: { minDelayTarget: 1, maxDelayTarget: 2, numRetries: 2, numMaxDelayRetries: 0, numNoDelayRetries: 0, numMinDelayRetries: 0, backoffFunction: 'linear' }, disableSubscriptionOverrides: false } }),
      ...topic.Attributes,
    };
  };
  const checkTopicAttributes = (attributes: Record<string, string>) => {
    for (const [name, value] of Object.entries(attributes)) {
      if (name === 'FifoTopic' || name === 'ContentBasedDeduplication') {
        if (value === 'false') continue;
        throw invalid(`Attributes Reason: ${name}: FIFO topics are not supported by the local stack`);
      }
      if (!TOPIC_ATTRIBUTES.includes(name)) throw invalid(`Attributes Reason: unknown attribute ${name} (known: ${TOPIC_ATTRIBUTES.join(', ')})`);
    }
  };
  const subscriptionOf = (s: Subscription): XmlNode => ({ SubscriptionArn: s.SubscriptionArn, Owner: s.Owner, Protocol: s.Protocol, Endpoint: s.Endpoint, TopicArn: s.TopicArn });

  const handle = awsQueryHandler({
    serviceName: 'SNS',
    service: 'sns',
    operations: {
      CreateTopic: async (params, ctx) => {
        const name = params.get('Name') ?? '';
        if (name.endsWith('.fifo')) throw invalid('Topic Name Reason: FIFO topics (.fifo) are not supported by the local stack');
        if (!TOPIC_NAME.test(name)) throw invalid('Topic Name');
        const attributes = queryMap(params, 'Attributes');
        checkTopicAttributes(attributes);
        const topicArn = `arn:aws:sns:${regionOf(ctx)}:${stack.accountId}:${name}`;
        const existing = state.topics.find((t) => t.TopicArn === topicArn);
        if (existing) {
          // CreateTopic is idempotent; the same name with other attributes is refused.
          const conflict = Object.entries(attributes).find(([k, v]) => (existing.Attributes[k] ?? '') !== v);
          if (conflict) throw invalid('Attributes Reason: Topic already exists with different attributes');
          return { TopicArn: topicArn };
        }
        state.topics.push({ TopicArn: topicArn, Name: name, Attributes: attributes, CreatedAt: new Date().toISOString() });
        await save();
        stack.logger.info('sns topic created', { topicArn });
        return { TopicArn: topicArn };
      },
      ListTopics: (params) => {
        const { items, next } = page(state.topics, params.get('NextToken'), (t) => t.TopicArn);
        return { Topics: { member: items.map((t) => ({ TopicArn: t.TopicArn })) }, ...(next ? { NextToken: next } : {}) };
      },
      GetTopicAttributes: (params) => {
        const topic = requireTopic(params.get('TopicArn'));
        return { Attributes: { entry: Object.entries(topicAttributes(topic)).map(([key, value]) => ({ key, value })) } };
      },
      SetTopicAttributes: async (params) => {
        const topic = requireTopic(params.get('TopicArn'));
        const name = params.get('AttributeName') ?? '';
        const value = params.get('AttributeValue') ?? '';
        checkTopicAttributes({ [name]: value });
        topic.Attributes[name] = value;
        await save();
        return {};
      },
      DeleteTopic: async (params) => {
        const topicArn = params.get('TopicArn') ?? '';
        const topic = topicByArn(topicArn);
        // Deleting a topic that does not exist succeeds, as on AWS.
        if (!topic) return {};
        state.topics = state.topics.filter((t) => t !== topic);
        state.subscriptions = state.subscriptions.filter((s) => s.TopicArn !== topic.TopicArn);
        await save();
        await rm(messagesFile(topic.TopicArn), { force: true });
        counts.delete(topic.TopicArn);
        stack.logger.info('sns topic deleted', { topicArn: topic.TopicArn });
        return {};
      },
      Publish: async (params) => {
        if (params.get('PhoneNumber')) throw invalid('PhoneNumber Reason: the local stack does not send SMS; publish to a topic');
        const topicArn = params.get('TopicArn') ?? params.get('TargetArn');
        if (params.get('MessageGroupId')) throw invalid('MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type');
        const { messageId } = await publish({
          topicArn: topicArn ?? '',
          message: params.get('Message') ?? '',
          ...(params.has('Subject') ? { subject: params.get('Subject') ?? '' } : {}),
          ...(params.has('MessageStructure') ? { messageStructure: params.get('MessageStructure') ?? '' } : {}),
          messageAttributes: queryMessageAttributes(params),
        });
        return { MessageId: messageId };
      },
      Subscribe: async (params) => {
        const topic = requireTopic(params.get('TopicArn'));
        const protocol = params.get('Protocol') ?? '';
        const attributes = queryMap(params, 'Attributes');
        const endpoint = checkEndpoint(protocol, params.get('Endpoint') ?? '', stack.dataDir);
        for (const [name, value] of Object.entries(attributes)) {
          if (name !== 'RawMessageDelivery') throw invalid(`Attributes Reason: the local stack supports only RawMessageDelivery on subscriptions, not ${name}`);
          if (value !== 'true' && value !== 'false') throw invalid('Attributes Reason: RawMessageDelivery: expected "true" or "false"');
          if (protocol === 'file' && value === 'true') throw invalid('Attributes Reason: RawMessageDelivery is for http/https; a file subscription always gets the notification JSON');
        }
        const existing = state.subscriptions.find((s) => s.TopicArn === topic.TopicArn && s.Protocol === protocol && s.Endpoint === endpoint);
        if (existing) return { SubscriptionArn: existing.SubscriptionArn };
        const subscription: Subscription = {
          SubscriptionArn: `${topic.TopicArn}:${randomUUID()}`,
          TopicArn: topic.TopicArn,
          Protocol: protocol as Subscription['Protocol'],
          Endpoint: endpoint,
          Owner: stack.accountId,
          Attributes: attributes,
        };
        state.subscriptions.push(subscription);
        await save();
        stack.logger.info('sns subscription created', { subscriptionArn: subscription.SubscriptionArn, protocol, endpoint });
        // Confirmed at once: the stack sends no SubscriptionConfirmation, so no SubscribeURL needs a visit.
        return { SubscriptionArn: subscription.SubscriptionArn };
      },
      Unsubscribe: async (params) => {
        const arn = params.get('SubscriptionArn') ?? '';
        const subscription = state.subscriptions.find((s) => s.SubscriptionArn === arn);
        if (!subscription) throw notFound('Subscription does not exist');
        state.subscriptions = state.subscriptions.filter((s) => s !== subscription);
        await save();
        return {};
      },
      ListSubscriptions: (params) => {
        const { items, next } = page(state.subscriptions, params.get('NextToken'), (s) => s.SubscriptionArn);
        return { Subscriptions: { member: items.map(subscriptionOf) }, ...(next ? { NextToken: next } : {}) };
      },
      ListSubscriptionsByTopic: (params) => {
        const topic = requireTopic(params.get('TopicArn'));
        const { items, next } = page(
          state.subscriptions.filter((s) => s.TopicArn === topic.TopicArn),
          params.get('NextToken'),
          (s) => s.SubscriptionArn,
        );
        return { Subscriptions: { member: items.map(subscriptionOf) }, ...(next ? { NextToken: next } : {}) };
      },
      GetSubscriptionAttributes: (params) => {
        const arn = params.get('SubscriptionArn') ?? '';
        const s = state.subscriptions.find((x) => x.SubscriptionArn === arn);
        if (!s) throw notFound('Subscription does not exist');
        const attributes = { SubscriptionArn: s.SubscriptionArn, TopicArn: s.TopicArn, Owner: s.Owner, Protocol: s.Protocol, Endpoint: s.Endpoint, ConfirmationWasAuthenticated: 'true', PendingConfirmation: 'false', RawMessageDelivery: 'false', ...s.Attributes };
        return { Attributes: { entry: Object.entries(attributes).map(([key, value]) => ({ key, value })) } };
      },
    },
  });

  return {
    id: 'sns',
    handle,
    async start() {
      try {
        const loaded = JSON.parse(await readFile(stateFile, 'utf8')) as SnsState;
        if (!Array.isArray(loaded.topics) || !Array.isArray(loaded.subscriptions)) throw new Error('expected {"topics": [...], "subscriptions": [...]}');
        state = loaded;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${stateFile}: the SNS state cannot be read (${(error as Error).message}); fix or delete the file`);
      }
      for (const topic of state.topics) counts.set(topic.TopicArn, (await readMessages(topic.TopicArn)).length);
    },
    async close() {
      await deliveries.close();
      await saving.catch(() => undefined);
      await Promise.all([...appends.values()].map((p) => p.catch(() => undefined)));
    },
    async status() {
      return {
        topics: state.topics.map((t) => ({
          topicArn: t.TopicArn,
          messages: counts.get(t.TopicArn) ?? 0,
          subscriptions: state.subscriptions.filter((s) => s.TopicArn === t.TopicArn).length,
          messagesFile: messagesFile(t.TopicArn),
        })),
        deliveryFailures: deliveries.failures,
      };
    },
    publish,
    async listMessages(topicArn) {
      const topic = topicByArn(topicArn);
      if (!topic) throw notFound();
      return readMessages(topic.TopicArn);
    },
    idle: () => deliveries.idle(),
  };
}

/** `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue` / `.Value.BinaryValue`. */
function queryMessageAttributes(params: URLSearchParams): Record<string, MessageAttribute> {
  const entries = new Map<number, { name?: string; value: Partial<MessageAttribute> }>();
  const pattern = /^MessageAttributes\.entry\.(\d+)\.(Name|Value\.DataType|Value\.StringValue|Value\.BinaryValue)$/;
  for (const [key, value] of params) {
    const match = pattern.exec(key);
    if (!match) continue;
    const entry = entries.get(Number(match[1])) ?? { value: {} };
    if (match[2] === 'Name') entry.name = value;
    else entry.value[match[2].slice('Value.'.length) as keyof MessageAttribute] = value;
    entries.set(Number(match[1]), entry);
  }
  const attributes: Record<string, MessageAttribute> = {};
  for (const [, entry] of [...entries].sort((a, b) => a[0] - b[0])) {
    if (!entry.name) throw invalid('MessageAttributes Reason: an entry has no Name');
    attributes[entry.name] = entry.value as MessageAttribute;
  }
  return attributes;
}

/** A subscription endpoint the stack can deliver to: an absolute file path outside its own data, or an http(s) URL. */
function checkEndpoint(protocol: string, endpoint: string, dataDir: string): string {
  if (protocol === 'http' || protocol === 'https') {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw invalid(`Endpoint Reason: ${JSON.stringify(endpoint)} is not a URL`);
    }
    if (url.protocol !== `${protocol}:`) throw invalid(`Endpoint Reason: an ${protocol} subscription needs an ${protocol}:// URL, got ${JSON.stringify(endpoint)}`);
    return endpoint;
  }
  if (protocol === 'file') {
    const path = endpoint.startsWith('file://') ? decodeURIComponent(new URL(endpoint).pathname) : endpoint;
    if (!isAbsolute(path)) throw invalid(`Endpoint Reason: a file subscription needs an absolute path (or file:// URL), got ${JSON.stringify(endpoint)}`);
    const inside = relative(resolve(dataDir), resolve(path));
    if (!inside.startsWith('..') && !isAbsolute(inside)) throw invalid(`Endpoint Reason: ${path} is inside the stack's data directory ${dataDir}; choose a file elsewhere`);
    return resolve(path);
  }
  throw invalid(`Protocol Reason: the local stack delivers to file (a local path), http and https, not ${JSON.stringify(protocol)}`);
}
