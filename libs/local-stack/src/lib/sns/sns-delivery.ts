import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '@scones/stack-core';

/** A message as SNS keeps it: what Publish was given, with its id and time. */
export interface PublishedMessage {
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  /** `json` when Message holds one message per protocol (`default` for the rest). */
  MessageStructure?: 'json';
  MessageAttributes?: Record<string, MessageAttribute>;
  /** ISO 8601 with milliseconds, as SNS writes it. */
  Timestamp: string;
}

export interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  /** Base64. */
  BinaryValue?: string;
}

export interface Subscription {
  SubscriptionArn: string;
  TopicArn: string;
  Protocol: 'file' | 'http' | 'https';
  Endpoint: string;
  Owner: string;
  /** `RawMessageDelivery: "true"` posts the message itself instead of the notification (http/https). */
  Attributes: Record<string, string>;
}

/** The message one protocol receives: the `default` of a `json` structure unless it has its own. */
export function messageFor(message: PublishedMessage, protocol: string): string {
  if (message.MessageStructure !== 'json') return message.Message;
  const perProtocol = JSON.parse(message.Message) as Record<string, string>;
  return perProtocol[protocol] ?? perProtocol.default;
}

/**
 * The notification SNS posts to an HTTP endpoint, with the fields in SNS's order. There is no AWS
 * signing certificate here: `Signature` is empty, so receivers that verify it must skip that locally.
 */
export function notificationOf(message: PublishedMessage, subscription: Subscription, stackUrl: string): Record<string, unknown> {
  const attributes = message.MessageAttributes
    ? Object.fromEntries(Object.entries(message.MessageAttributes).map(([name, a]) => [name, { Type: a.DataType, Value: a.StringValue ?? a.BinaryValue ?? '' }]))
    : undefined;
  return {
    Type: 'Notification',
    MessageId: message.MessageId,
    TopicArn: message.TopicArn,
    ...(message.Subject !== undefined ? { Subject: message.Subject } : {}),
    Message: messageFor(message, subscription.Protocol),
    Timestamp: message.Timestamp,
    SignatureVersion: '1',
    Signature: '',
    SigningCertURL: '',
    UnsubscribeURL: `${stackUrl}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscription.SubscriptionArn)}`,
    ...(attributes ? { MessageAttributes: attributes } : {}),
  };
}

export interface DeliveryOptions {
  stackUrl(): string;
  logger: Logger;
  /** Delays before the 2nd, 3rd… HTTP attempt (SNS retries a failing endpoint). Default 1 s, 2 s. */
  retryDelaysMs?: readonly number[];
  /** One HTTP attempt's limit (SNS's is 15 s). */
  timeoutMs?: number;
}

/**
 * Delivers published messages to subscriptions, in the background: a `file` endpoint gets the
 * notification appended as one JSON line (deliveries to one file are written in publish order);
 * an `http`/`https` endpoint gets it POSTed as SNS posts it, retried on failure.
 */
export class Deliveries {
  private readonly fileQueues = new Map<string, Promise<void>>();
  private readonly pending = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  failures = 0;

  constructor(private readonly options: DeliveryOptions) {}

  deliver(message: PublishedMessage, subscription: Subscription): void {
    const delivery = (subscription.Protocol === 'file' ? this.toFile(message, subscription) : this.toHttp(message, subscription)).catch((error: unknown) => {
      this.failures++;
      this.options.logger.warn('sns delivery failed', { subscription: subscription.SubscriptionArn, endpoint: subscription.Endpoint, messageId: message.MessageId, error: (error as Error).message });
    });
    this.pending.add(delivery);
    void delivery.finally(() => this.pending.delete(delivery));
  }

  /** Resolves when every delivery started so far has succeeded or given up. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Stops retrying and waits for what is in flight. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.idle();
  }

  private toFile(message: PublishedMessage, subscription: Subscription): Promise<void> {
    const file = subscription.Endpoint;
    const line = `${JSON.stringify(notificationOf(message, subscription, this.options.stackUrl()))}\n`;
    const previous = this.fileQueues.get(file) ?? Promise.resolve();
    const next = previous.then(async () => {
      await mkdir(dirname(file), { recursive: true });
      await appendFile(file, line);
    });
    const settled = next.catch(() => undefined);
    this.fileQueues.set(file, settled);
    void settled.then(() => {
      if (this.fileQueues.get(file) === settled) this.fileQueues.delete(file);
    });
    return next;
  }

  private async toHttp(message: PublishedMessage, subscription: Subscription): Promise<void> {
    const raw = subscription.Attributes.RawMessageDelivery === 'true';
    const body = raw ? messageFor(message, subscription.Protocol) : JSON.stringify(notificationOf(message, subscription, this.options.stackUrl()));
    const headers = {
      'content-type': 'text/plain; charset=UTF-8',
      'user-agent': 'Amazon Simple Notification Service Agent',
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': message.MessageId,
      'x-amz-sns-topic-arn': message.TopicArn,
      'x-amz-sns-subscription-arn': subscription.SubscriptionArn,
      ...(raw ? { 'x-amz-sns-rawdelivery': 'true' } : {}),
    };
    const delays = this.options.retryDelaysMs ?? [1000, 2000];
    let lastError: Error | undefined;
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (attempt > 0) await sleep(delays[attempt - 1], this.abort.signal);
      if (this.abort.signal.aborted) break;
      try {
        const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs ?? 15_000)]);
        const response = await fetch(subscription.Endpoint, { method: 'POST', headers, body, signal });
        await response.arrayBuffer();
        // SNS counts any 2xx as delivered, anything else as a failure to retry.
        if (response.status >= 200 && response.status < 300) return;
        lastError = new Error(`${subscription.Endpoint} answered ${response.status}`);
      } catch (error) {
        lastError = error as Error;
      }
    }
    throw lastError ?? new Error('the stack stopped before the message was delivered');
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}
