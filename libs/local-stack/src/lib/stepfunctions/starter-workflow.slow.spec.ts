// The course's workflow as learners build it, end to end on the stack: Python functions in the
// starter's style (boto3 in them reaching the stack unchanged), a SageMaker endpoint serving a real
// (tiny, untrained) model artifact, state machines as the console exports them. Each execution
// must end as the same code ends on AWS: passed, or failed with the error Python raises.
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, SageMakerClient, waitUntilEndpointInService } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, GetExecutionHistoryCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { BUILTIN_IMAGE, fixtureModelTarball, png, ROLE as SAGEMAKER_ROLE } from '../../../test/sagemaker-kit';
import { startTestStack, type TestStack } from '../../testing';
import { FILTER_CUSTOM_EXCEPTION_PY, FILTER_EXCEPTION_PY, FILTER_RAISE_STRING_PY, FILTER_STATUS_500_PY, SERIALIZE_PY } from '../lambda/testing';
import { CREDENTIALS, ROLE_ARN, createFunction, sfnClient, starterClassifyPy, starterDefinition, waitForEnd } from './testing';

jest.setTimeout(600_000);

const BUCKET = 'sagemaker-us-east-1-123456789012';
const ENDPOINT = 'image-classification-2026-12-07-10-00-00-000';
const LEVELS = [10, 60, 110, 160, 210, 250];
const python = { runtime: 'python3.11', handler: 'lambda_function.lambda_handler' };

describe("the course's workflow: starter-style Python functions and a console-exported state machine", () => {
  let stack: TestStack;
  let sfn: SFNClient;
  const keys = LEVELS.map((level) => `test/bicycle_s_${String(level).padStart(6, '0')}.png`);
  const predictions = new Map<string, number[]>();
  let threshold = 0;
  beforeAll(async () => {
    stack = await startTestStack({ services: ['s3', 'logs', 'sns', 'lambda', 'states', 'sagemaker', 'sagemaker-runtime'] });
    sfn = sfnClient(stack);
    const clients = { endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 };
    const s3 = new S3Client({ ...clients, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    // The course's layout: test images at the bucket root.
    for (const [i, key] of keys.entries()) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: png(LEVELS[i], i), ContentType: 'image/png' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/fixture/output/model.tar.gz', Body: await fixtureModelTarball() }));
    s3.destroy();
    const sagemaker = new SageMakerClient(clients);
    await sagemaker.send(new CreateModelCommand({ ModelName: 'starter-model', ExecutionRoleArn: SAGEMAKER_ROLE, PrimaryContainer: { Image: BUILTIN_IMAGE, ModelDataUrl: `s3://${BUCKET}/models/fixture/output/model.tar.gz` } }));
    await sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'starter-config', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'starter-model', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }] }));
    await sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'starter-config' }));
    expect((await waitUntilEndpointInService({ client: sagemaker, maxWaitTime: 300, minDelay: 1, maxDelay: 2 }, { EndpointName: ENDPOINT })).state).toBe('SUCCESS');
    sagemaker.destroy();
    // What the endpoint says about each image decides how each execution must end.
    const runtime = new SageMakerRuntimeClient(clients);
    for (const [i, key] of keys.entries()) {
      const answer = await runtime.send(new InvokeEndpointCommand({ EndpointName: ENDPOINT, ContentType: 'image/png', Body: png(LEVELS[i], i) }));
      predictions.set(key, JSON.parse(Buffer.from(answer.Body as Uint8Array).toString('utf8')));
    }
    runtime.destroy();
    const tops = [...predictions.values()].map((p) => Math.max(...p)).sort((a, b) => a - b);
    // In the widest gap between the answers of images 2–5, so some images pass and some do not
    // (the model is untrained), and an answer that differs in its last digits when the endpoint
    // batches concurrent requests cannot cross the threshold.
    const cut = [1, 2, 3, 4].reduce((best, i) => (tops[i] - tops[i - 1] > tops[best] - tops[best - 1] ? i : best), 1);
    expect(tops[cut] - tops[cut - 1]).toBeGreaterThan(1e-4);
    threshold = (tops[cut] + tops[cut - 1]) / 2;
    const withThreshold = (code: string) => code.replace(/0?\.93\b/g, threshold.toFixed(8));
    await Promise.all([
      createFunction(stack, 'serializeImageData', { 'lambda_function.py': SERIALIZE_PY }, python),
      createFunction(stack, 'classifyImage', { 'lambda_function.py': starterClassifyPy(ENDPOINT) }, python),
      createFunction(stack, 'filterRaiseString', { 'lambda_function.py': withThreshold(FILTER_RAISE_STRING_PY) }, python),
      createFunction(stack, 'filterCustomException', { 'lambda_function.py': withThreshold(FILTER_CUSTOM_EXCEPTION_PY) }, python),
      createFunction(stack, 'filterException', { 'lambda_function.py': withThreshold(FILTER_EXCEPTION_PY) }, python),
      createFunction(stack, 'filterStatus500', { 'lambda_function.py': withThreshold(FILTER_STATUS_500_PY) }, python),
    ]);
  });
  afterAll(async () => {
    sfn.destroy();
    await stack.dispose();
  });

  const passes = (key: string) => Math.max(...(predictions.get(key) ?? [])) >= threshold;

  async function runAll(name: string, definition: Record<string, unknown>) {
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: ROLE_ARN }));
    const started = await Promise.all(keys.map((key) => sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ image_data: '', s3_bucket: BUCKET, s3_key: key }) }))));
    return Promise.all(started.map(async ({ executionArn }, i) => ({ key: keys[i], described: await waitForEnd(sfn, executionArn!, 300_000), executionArn: executionArn! })));
  }

  it('ends each execution as on AWS: passed, or TypeError from raise("THRESHOLD_CONFIDENCE_NOT_MET")', async () => {
    expect(keys.some(passes)).toBe(true);
    expect(keys.some((k) => !passes(k))).toBe(true);
    const runs = await runAll('starter-console', starterDefinition({ serialize: 'serializeImageData', classify: 'classifyImage', filter: 'filterRaiseString' }));
    for (const { key, described, executionArn } of runs) {
      const inferences = predictions.get(key);
      if (passes(key)) {
        expect(described.status).toBe('SUCCEEDED');
        const output = JSON.parse(described.output!);
        expect(output.statusCode).toBe(200);
        // The filter answers json.dumps(event): the body is a JSON string.
        expect(JSON.parse(output.body).body).toMatchObject({ s3_bucket: BUCKET, s3_key: key, inferences });
      } else {
        expect(described).toMatchObject({ status: 'FAILED', error: 'TypeError' });
        expect(JSON.parse(described.cause!)).toMatchObject({ errorType: 'TypeError', errorMessage: 'exceptions must derive from BaseException' });
      }
      // The serialize function returned bytes (base64.b64encode): they travel as the base64 text.
      const events = (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events!;
      const serialized = JSON.parse(events.find((e) => e.type === 'TaskSucceeded')!.taskSucceededEventDetails!.output!);
      expect(Buffer.from(serialized.Payload.body.image_data, 'base64')).toEqual(png(LEVELS[keys.indexOf(key)], keys.indexOf(key)));
    }
  });

  it('ends as the filter says whatever its style: a custom exception class, Exception, or statusCode 500', async () => {
    const functions = { serialize: 'serializeImageData', classify: 'classifyImage' };
    const custom = await runAll('starter-templates-custom', starterDefinition({ ...functions, filter: 'filterCustomException' }, 'templates'));
    for (const { key, described } of custom) {
      if (passes(key)) expect(JSON.parse(described.output!)).toEqual({ statusCode: 200, body: expect.objectContaining({ s3_key: key, inferences: predictions.get(key) }) });
      else expect(described).toMatchObject({ status: 'FAILED', error: 'Threshold_Confidence_Not_Met' });
    }
    const plain = await runAll('starter-exception', starterDefinition({ ...functions, filter: 'filterException' }));
    for (const { key, described } of plain) expect(described).toMatchObject(passes(key) ? { status: 'SUCCEEDED' } : { status: 'FAILED', error: 'Exception' });
    const status500 = await runAll('starter-status-500', starterDefinition({ ...functions, filter: 'filterStatus500' }));
    for (const { key, described } of status500) {
      // Returning statusCode 500 is a successful invocation: the execution succeeds, as on AWS.
      expect(described.status).toBe('SUCCEEDED');
      expect(JSON.parse(described.output!).statusCode).toBe(passes(key) ? 200 : 500);
    }
  });
});
