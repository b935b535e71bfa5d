import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { boto3Python } from '../../../../../tools/boto3-python';
import { startTestStack, type TestStack } from '../../testing';
import type { SnsService } from './sns-service';

const run = promisify(execFile);

jest.setTimeout(120_000);

describe('SNS from the AWS CLI and boto3', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ services: ['sns'] });
  });
  afterAll(() => stack.dispose());
  const service = () => stack.service<SnsService>('sns')!;

  it('serves the AWS CLI and boto3', async () => {
    const env = { ...process.env, ...stack.context.sdkEnvironment() };
    const created = JSON.parse((await run('/usr/bin/aws', ['sns', 'create-topic', '--name', 'cli-topic', '--endpoint-url', stack.url, '--output', 'json'], { env })).stdout);
    expect(created.TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:cli-topic');
    const published = JSON.parse(
      (await run('/usr/bin/aws', ['sns', 'publish', '--topic-arn', created.TopicArn, '--message', 'from the CLI', '--subject', 'CLI', '--message-attributes', '{"k":{"DataType":"String","StringValue":"v"}}', '--endpoint-url', stack.url, '--output', 'json'], { env })).stdout,
    );
    expect(published.MessageId).toMatch(/^[0-9a-f-]{36}$/);

    const script = [
      'import boto3, json, os, sys',
      "kwargs = {'endpoint_url': sys.argv[1]} if len(sys.argv) > 1 else {}",
      "sns = boto3.client('sns', **kwargs)",
      "arn = sns.create_topic(Name='boto-topic')['TopicArn']",
      "mid = sns.publish(TopicArn=arn, Message='from boto3', MessageAttributes={'k': {'DataType': 'String', 'StringValue': 'v'}})['MessageId']",
      "topics = [t['TopicArn'] for page in sns.get_paginator('list_topics').paginate() for t in page['Topics']]",
      "try:\n    sns.publish(TopicArn=arn + '-missing', Message='x')\nexcept sns.exceptions.NotFoundException as e:\n    err = e.response['Error']['Code']",
      "print(json.dumps({'arn': arn, 'mid': mid, 'listed': arn in topics, 'err': err}))",
    ].join('\n');
    // boto3 1.43 reaches the stack with the environment alone; Debian's 1.26 needs endpoint_url.
    const modern = JSON.parse((await run('python3', ['-c', script], { env })).stdout);
    expect(modern).toMatchObject({ arn: 'arn:aws:sns:us-east-1:000000000000:boto-topic', listed: true, err: 'NotFound' });
    const python = await boto3Python();
    if (python === '/usr/bin/python3') {
      const debian = JSON.parse((await run(python, ['-c', script, stack.url], { env })).stdout);
      expect(debian).toMatchObject({ listed: true, err: 'NotFound' });
    }
    const kept = await service().listMessages(created.TopicArn);
    expect(kept).toEqual([expect.objectContaining({ Message: 'from the CLI', Subject: 'CLI', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } })]);
  });
});
