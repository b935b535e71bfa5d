import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { startTestStack, type TestStack } from '../../testing';

const run = promisify(execFile);

describe('gateway', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ services: ['sts'] });
  });
  afterAll(() => stack.dispose());

  it('answers health with its pid and instance id', async () => {
    const health = (await (await fetch(`${stack.url}/_scones/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ ok: true, ready: true, pid: process.pid, instanceId: stack.instanceId, url: stack.url });
  });

  it('routes by the signing scope: the AWS CLI reaches STS', async () => {
    const { stdout } = await run('aws', ['sts', 'get-caller-identity', '--endpoint-url', stack.url, '--output', 'json'], {
      env: { ...process.env, ...stack.context.sdkEnvironment() },
    });
    expect(JSON.parse(stdout)).toMatchObject({ Account: '000000000000' });
  });

  it('names an unsupported service and what the stack serves', async () => {
    const client = new CloudFormationClient({ endpoint: stack.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    await expect(client.send(new DescribeStacksCommand({}))).rejects.toMatchObject({
      name: 'UnsupportedService',
      message: expect.stringMatching(/does not serve service "cloudformation".*sts/),
    });
    client.destroy();
  });

  it('refuses a shutdown request without the instance id', async () => {
    const answer = await fetch(`${stack.url}/_scones/shutdown`, { method: 'POST' });
    expect(answer.status).toBe(403);
  });
});
