import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startTestStack, type TestStack } from '../../testing';
import type { LogsService } from './logs-service';

const run = promisify(execFile);
const GROUP = '/aws/sagemaker/TrainingJobs';

describe('CloudWatch Logs service', () => {
  let dataDir: string;
  let stack: TestStack;
  let logs: CloudWatchLogsClient;
  let service: LogsService;
  const saved: Record<string, string | undefined> = {};

  /** Clients configured only by the stack's SDK environment, as a user's shell would have it. */
  const useEnvironment = (env: Record<string, string>) => {
    for (const [key, value] of Object.entries(env)) {
      saved[key] ??= process.env[key];
      process.env[key] = value;
    }
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scones-logs-'));
    stack = await startTestStack({ services: ['logs'], dataDir });
    useEnvironment(stack.context.sdkEnvironment());
    logs = new CloudWatchLogsClient({ maxAttempts: 1 });
    service = stack.service<LogsService>('logs')!;
    service.append(GROUP, 'job-a/algo-1-100', [
      { timestamp: 1_000, message: 'Epoch[0] Train-accuracy=0.5' },
      { timestamp: 2_000, message: 'Epoch[1] Train-accuracy=0.6' },
      { timestamp: 3_000, message: 'Epoch[2] Train-accuracy=0.7' },
    ]);
    service.append(GROUP, 'job-b/algo-1-200', [{ timestamp: 500, message: 'other job' }]);
    service.append(GROUP, 'job-a/algo-2-100', [{ timestamp: 4_000, message: 'second host' }]);
  });
  afterAll(async () => {
    logs.destroy();
    await stack.dispose();
    await rm(dataDir, { recursive: true, force: true });
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('lists a job\'s streams by prefix, ordered and paginated', async () => {
    const first = await logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, logStreamNamePrefix: 'job-a/', limit: 1 }));
    expect(first.logStreams?.map((s) => s.logStreamName)).toEqual(['job-a/algo-1-100']);
    expect(first.logStreams?.[0]).toMatchObject({ firstEventTimestamp: 1_000, lastEventTimestamp: 3_000, arn: expect.stringContaining(`log-group:${GROUP}:log-stream:job-a/algo-1-100`) });
    const second = await logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, logStreamNamePrefix: 'job-a/', limit: 1, nextToken: first.nextToken }));
    expect(second.logStreams?.map((s) => s.logStreamName)).toEqual(['job-a/algo-2-100']);
    expect(second.nextToken).toBeUndefined();

    const byTime = await logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, orderBy: 'LastEventTime', descending: true }));
    expect(byTime.logStreams?.map((s) => s.logStreamName)).toEqual(['job-a/algo-2-100', 'job-a/algo-1-100', 'job-b/algo-1-200']);
    const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/sagemaker' }));
    expect(groups.logGroups?.map((g) => g.logGroupName)).toEqual([GROUP]);
  });

  it('pages events forward with a token that stays put until new events arrive', async () => {
    const stream = 'job-a/algo-1-100';
    const head = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, startFromHead: true, limit: 2 }));
    expect(head.events?.map((e) => e.message)).toEqual(['Epoch[0] Train-accuracy=0.5', 'Epoch[1] Train-accuracy=0.6']);
    const rest = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, nextToken: head.nextForwardToken }));
    expect(rest.events?.map((e) => e.message)).toEqual(['Epoch[2] Train-accuracy=0.7']);
    const idle = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, nextToken: rest.nextForwardToken }));
    expect(idle.events).toEqual([]);
    expect(idle.nextForwardToken).toBe(rest.nextForwardToken);

    service.append(GROUP, stream, [{ timestamp: 5_000, message: 'Epoch[3] Train-accuracy=0.8' }]);
    const fresh = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, nextToken: idle.nextForwardToken }));
    expect(fresh.events?.map((e) => e.message)).toEqual(['Epoch[3] Train-accuracy=0.8']);
    expect(fresh.events?.[0].ingestionTime).toEqual(expect.any(Number));
    expect(fresh.nextForwardToken).not.toBe(idle.nextForwardToken);
  });

  it('reads the newest events by default and pages backwards', async () => {
    const stream = 'job-a/algo-1-100';
    const tail = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, limit: 2 }));
    expect(tail.events?.map((e) => e.timestamp)).toEqual([3_000, 5_000]);
    const before = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, limit: 2, nextToken: tail.nextBackwardToken }));
    expect(before.events?.map((e) => e.timestamp)).toEqual([1_000, 2_000]);
    const window = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, startFromHead: true, startTime: 2_000, endTime: 4_000 }));
    expect(window.events?.map((e) => e.timestamp)).toEqual([2_000, 3_000]);
  });

  it('answers bad requests with CloudWatch Logs errors that name the problem', async () => {
    await expect(logs.send(new GetLogEventsCommand({ logGroupName: '/aws/none', logStreamName: 'x' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'The specified log group does not exist.',
    });
    await expect(logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'missing' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'The specified log stream does not exist.',
    });
    await expect(logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, logStreamNamePrefix: 'job', orderBy: 'LastEventTime' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('Cannot order by LastEventTime with a logStreamNamePrefix'),
    });
    await expect(logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'job-a/algo-1-100', nextToken: 'f/not-a-token' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'The specified nextToken is invalid.',
    });
    await expect(logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, limit: 51 }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining("Value at 'limit'"),
    });
    await expect(logs.send(new DescribeLogStreamsCommand({}))).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('logGroupName') });
  });

  it('serves the AWS CLI (--endpoint-url) as a follower would read a training job', async () => {
    const { stdout } = await run('/usr/bin/aws', ['logs', 'get-log-events', '--endpoint-url', stack.url, '--log-group-name', GROUP, '--log-stream-name', 'job-b/algo-1-200', '--start-from-head', '--output', 'json'], {
      env: { ...process.env, ...stack.context.sdkEnvironment() },
    });
    expect(JSON.parse(stdout)).toMatchObject({ events: [{ timestamp: 500, message: 'other job' }], nextForwardToken: expect.stringMatching(/^f\//) });
  }, 60_000);

  it('keeps the events across a restart of the stack', async () => {
    await stack.close();
    stack = await startTestStack({ services: ['logs'], dataDir });
    useEnvironment(stack.context.sdkEnvironment());
    logs.destroy();
    logs = new CloudWatchLogsClient({ maxAttempts: 1 });
    service = stack.service<LogsService>('logs')!;
    const events = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'job-a/algo-1-100', startFromHead: true }));
    expect(events.events?.map((e) => e.message)).toEqual(['Epoch[0] Train-accuracy=0.5', 'Epoch[1] Train-accuracy=0.6', 'Epoch[2] Train-accuracy=0.7', 'Epoch[3] Train-accuracy=0.8']);
    service.append(GROUP, 'job-a/algo-1-100', [{ message: 'after restart' }]);
    expect(service.events(GROUP, 'job-a/algo-1-100')?.map((e) => e.message).at(-1)).toBe('after restart');
  });
});
