import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, GetExecutionHistoryCommand, StartExecutionCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { BatchErrorName, buildBatchWorkflowDefinition, buildWorkflowDefinition, WorkflowStateName } from '@scones/workflow';
import type { TestStack } from '../../testing';
import type { SnsService } from '../sns/sns-service';
import { CREDENTIALS, ROLE_ARN, createFunction, sfnClient, startStatesStack, waitForEnd } from './testing';

jest.setTimeout(180_000);

// Functions with the contract of the project's three (payload-schemas): the event and result
// shapes of the course's starter, and THRESHOLD_CONFIDENCE_NOT_MET below 0.8. The classifier
// is confident for keys containing "confident" and fails with ModelError for keys containing "broken".
const SERIALIZE = `exports.handler = async (event) => ({
  statusCode: 200,
  body: { image_data: Buffer.from('png of ' + event.s3_key).toString('base64'), s3_bucket: event.s3_bucket, s3_key: event.s3_key, inferences: [] },
});`;
const CLASSIFY = `exports.handler = async (event) => {
  if (event.body.s3_key.includes('broken')) { const e = new Error('the model cannot read ' + event.body.s3_key); e.name = 'ModelError'; throw e; }
  return { statusCode: 200, body: { ...event.body, inferences: event.body.s3_key.includes('confident') ? [0.95, 0.05] : [0.6, 0.4] } };
};`;
const FILTER = `exports.handler = async (event) => {
  if (Math.max(...event.body.inferences) < 0.8) { const e = new Error('THRESHOLD_CONFIDENCE_NOT_MET'); e.name = 'THRESHOLD_CONFIDENCE_NOT_MET'; throw e; }
  return event;
};`;

describe("the project's state machines on the stack", () => {
  let stack: TestStack;
  let sfn: SFNClient;
  let notifyTopicArn: string;
  const functions = { serialize: '', classify: '', filter: '' };
  beforeAll(async () => {
    stack = await startStatesStack();
    sfn = sfnClient(stack);
    [functions.serialize, functions.classify, functions.filter] = await Promise.all([
      createFunction(stack, 'serialize-lambda', { 'index.js': SERIALIZE }),
      createFunction(stack, 'classify-lambda', { 'index.js': CLASSIFY }),
      createFunction(stack, 'filter-lambda', { 'index.js': FILTER }),
    ]);
    const sns = new SNSClient({ endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS });
    notifyTopicArn = (await sns.send(new CreateTopicCommand({ Name: 'scones-workflow-failures' }))).TopicArn!;
    sns.destroy();
    const s3 = new S3Client({ endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'scones' }));
    for (const key of ['data/test/confident_1.png', 'data/test/doubtful_2.png', 'data/test/broken_3.png']) await s3.send(new PutObjectCommand({ Bucket: 'scones', Key: key, Body: 'png' }));
    s3.destroy();
  });
  afterAll(async () => {
    sfn.destroy();
    await stack.dispose();
  });

  async function run(definition: unknown, name: string, input: unknown) {
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: ROLE_ARN }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
    const described = await waitForEnd(sfn, executionArn!);
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
      events.push(...page.events!);
      nextToken = page.nextToken;
    } while (nextToken);
    return { executionArn: executionArn!, described, events, output: described.output ? JSON.parse(described.output) : undefined };
  }
  const enteredStates = (events: HistoryEvent[]) => events.filter((e) => e.type?.endsWith('StateEntered')).map((e) => e.stateEnteredEventDetails!.name);

  it('runs the single-image definition: passes a confident image, fails an unsure one with THRESHOLD_CONFIDENCE_NOT_MET and notifies', async () => {
    const definition = buildWorkflowDefinition({ functions, notifyTopicArn });
    const passed = await run(definition, 'scones-workflow', { image_data: '', s3_bucket: 'scones', s3_key: 'data/test/confident_1.png' });
    expect(passed.described.status).toBe('SUCCEEDED');
    expect(passed.output).toEqual({ statusCode: 200, body: { image_data: Buffer.from('png of data/test/confident_1.png').toString('base64'), s3_bucket: 'scones', s3_key: 'data/test/confident_1.png', inferences: [0.95, 0.05] } });
    expect(enteredStates(passed.events)).toEqual([WorkflowStateName.Serialize, WorkflowStateName.Classify, WorkflowStateName.Filter]);

    const { stateMachineArn } = { stateMachineArn: passed.described.stateMachineArn! };
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ image_data: '', s3_bucket: 'scones', s3_key: 'data/test/doubtful_2.png' }) }));
    const rejected = await waitForEnd(sfn, executionArn!);
    expect(rejected).toMatchObject({ status: 'FAILED', error: 'THRESHOLD_CONFIDENCE_NOT_MET' });
    expect(JSON.parse(rejected.cause!)).toMatchObject({ errorType: 'THRESHOLD_CONFIDENCE_NOT_MET', errorMessage: 'THRESHOLD_CONFIDENCE_NOT_MET' });
    const events = (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events!;
    expect(enteredStates(events)).toEqual([WorkflowStateName.Serialize, WorkflowStateName.Classify, WorkflowStateName.Filter, WorkflowStateName.NotifyFailure, WorkflowStateName.Fail]);
    expect(events.at(-1)).toMatchObject({ type: 'ExecutionFailed', executionFailedEventDetails: { error: 'THRESHOLD_CONFIDENCE_NOT_MET', cause: rejected.cause } });
    const messages = await stack.service<SnsService>('sns')!.listMessages(notifyTopicArn);
    const notice = messages.find((m) => JSON.parse(m.Message).execution === executionArn);
    expect(notice).toBeDefined();
    expect(notice!.Subject).toBe('Scones workflow execution failed');
    expect(JSON.parse(notice!.Message)).toEqual({ execution: executionArn, input: { image_data: '', s3_bucket: 'scones', s3_key: 'data/test/doubtful_2.png' }, error: 'THRESHOLD_CONFIDENCE_NOT_MET', cause: rejected.cause });
  });

  it('runs the batch definition over s3_keys: every image recorded, failures included', async () => {
    const keys = ['data/test/confident_1.png', 'data/test/doubtful_2.png', 'data/test/broken_3.png', 'data/test/confident_4.png'];
    const batch = await run(buildBatchWorkflowDefinition({ functions, notifyTopicArn, maxConcurrency: 2 }), 'scones-batch-keys', { s3_bucket: 'scones', s3_keys: keys });
    expect(batch.described.status).toBe('SUCCEEDED');
    expect(batch.output).toEqual({
      s3_bucket: 'scones',
      count: 4,
      results: [
        { s3_key: keys[0], inferences: [0.95, 0.05] },
        { s3_key: keys[1], error: 'THRESHOLD_CONFIDENCE_NOT_MET', cause: expect.stringContaining('THRESHOLD_CONFIDENCE_NOT_MET') },
        { s3_key: keys[2], error: 'ModelError', cause: expect.stringContaining('the model cannot read data/test/broken_3.png') },
        { s3_key: keys[3], inferences: [0.95, 0.05] },
      ],
    });
    expect(batch.events.find((e) => e.type === 'MapStateStarted')!.mapStateStartedEventDetails).toEqual({ length: 4 });
    expect(batch.events.filter((e) => e.type === 'MapIterationSucceeded')).toHaveLength(4);
    expect(batch.events.filter((e) => e.type === 'ParallelStateFailed')).toHaveLength(2);
  });

  it('lists s3_prefix on the stack\'s S3 (aws-sdk:s3:listObjectsV2) and fails an empty prefix with NoImagesFound', async () => {
    const definition = buildBatchWorkflowDefinition({ functions, notifyTopicArn });
    const listed = await run(definition, 'scones-batch-prefix', { s3_bucket: 'scones', s3_prefix: 'data/test/' });
    expect(listed.described.status).toBe('SUCCEEDED');
    expect(listed.output.results.map((r: { s3_key: string; error?: string }) => [r.s3_key, r.error ?? 'passed'])).toEqual([
      ['data/test/broken_3.png', 'ModelError'],
      ['data/test/confident_1.png', 'passed'],
      ['data/test/doubtful_2.png', 'THRESHOLD_CONFIDENCE_NOT_MET'],
    ]);
    const listing = listed.events.find((e) => e.type === 'TaskScheduled' && e.taskScheduledEventDetails!.resourceType === 'aws-sdk:s3')!;
    expect(listing.taskScheduledEventDetails).toMatchObject({ resource: 'listObjectsV2', parameters: JSON.stringify({ Bucket: 'scones', Prefix: 'data/test/', MaxKeys: 1000 }) });

    const { stateMachineArn } = listed.described;
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ s3_bucket: 'scones', s3_prefix: 'nothing/here/' }) }));
    expect(await waitForEnd(sfn, executionArn!)).toMatchObject({ status: 'FAILED', error: BatchErrorName.NoImagesFound, cause: 'no object under s3_prefix' });
    const notices = await stack.service<SnsService>('sns')!.listMessages(notifyTopicArn);
    expect(notices.some((m) => m.Subject === 'Scones batch classification failed' && JSON.parse(m.Message).execution === executionArn)).toBe(true);
  });
});
