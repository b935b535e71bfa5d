// The state machine definitions on the local runner with everything real: the three Lambda
// bundles built like `nx build`, the embedded S3 (s3rver over HTTP) holding staged test images and
// their .lst, and the model endpoint (@scones/model-server over HTTP) with a planned predictor.
import { rm } from 'node:fs/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  buildBatchWorkflowDefinition,
  buildWorkflowDefinition,
  groundTruthFromLst,
  imageOutcomesOfBatch,
  loadLocalLambdas,
  LocalWorkflowRunner,
  LOCAL_FUNCTION_NAMES,
  LOCAL_NOTIFY_TOPIC_ARN,
  summarizeImageOutcomes,
  testCase,
  WorkflowStateName as S,
  type LambdaHandler,
} from '../src/index';
import { buildBundles, plannedPredictor, stageImages, startFlakyProxy, startLocalStack, syntheticImages, workspaceScratch, type FlakyProxy, type LocalStack } from './local-stack';

jest.setTimeout(120_000);

const ENDPOINT = 'scones-endpoint';
const THRESHOLD = 0.8;
const IMAGES = syntheticImages(8);
// Images 0-3 confident (image 1 wrongly: a motorcycle called a bicycle), 4-5 unsure, 6-7 not planned (0.5/0.5).
const PLAN = [
  { png: IMAGES[0].png, probabilities: [0.97, 0.03] },
  { png: IMAGES[1].png, probabilities: [0.9, 0.1] },
  { png: IMAGES[2].png, probabilities: [0.85, 0.15] },
  { png: IMAGES[3].png, probabilities: [0.05, 0.95] },
  { png: IMAGES[4].png, probabilities: [0.6, 0.4] },
  { png: IMAGES[5].png, probabilities: [0.3, 0.7] },
];

describe('the workflow on the local runner with the real Lambda bundles, S3 and endpoint', () => {
  let scratch: string;
  let stack: LocalStack;
  let proxy: FlakyProxy;
  let handlers: Record<string, LambdaHandler>;
  const options = { functions: LOCAL_FUNCTION_NAMES, notifyTopicArn: LOCAL_NOTIFY_TOPIC_ARN };

  beforeAll(async () => {
    scratch = await workspaceScratch('workflow-slow-');
    const [bundles, started] = await Promise.all([buildBundles(scratch), startLocalStack(ENDPOINT, plannedPredictor(PLAN))]);
    stack = started;
    await stageImages(stack.s3Client, 'scones', IMAGES);
    proxy = await startFlakyProxy(stack.endpointUrl);
    handlers = loadLocalLambdas({ bundles, target: { ...stack.s3.target, sagemakerRuntimeEndpoint: proxy.url }, endpointName: ENDPOINT, threshold: THRESHOLD });
  });
  afterAll(async () => {
    await proxy?.close();
    await stack?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const single = () => new LocalWorkflowRunner(buildWorkflowDefinition(options), { handlers, s3: stack.s3Client, retryIntervalScale: 0.01 });

  it('passes a confident image: the output carries the S3 object and the endpoint probabilities', async () => {
    const outcome = await single().execute(testCase('scones', IMAGES[0].key));
    expect(outcome.status).toBe('SUCCEEDED');
    const stored = await (await stack.s3Client.send(new GetObjectCommand({ Bucket: 'scones', Key: IMAGES[0].key }))).Body!.transformToByteArray();
    expect(outcome.output).toEqual({
      statusCode: 200,
      body: { image_data: Buffer.from(stored).toString('base64'), s3_bucket: 'scones', s3_key: IMAGES[0].key, inferences: [0.97, 0.03] },
    });
    expect(outcome.notifications).toEqual([]);
  });

  it('fails a low-confidence image with THRESHOLD_CONFIDENCE_NOT_MET and notifies', async () => {
    const outcome = await single().execute(testCase('scones', IMAGES[4].key));
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'THRESHOLD_CONFIDENCE_NOT_MET' });
    expect(JSON.parse(outcome.cause!)).toMatchObject({ errorType: 'THRESHOLD_CONFIDENCE_NOT_MET', errorMessage: 'THRESHOLD_CONFIDENCE_NOT_MET' });
    expect(outcome.notifications).toHaveLength(1);
    expect(JSON.parse(outcome.notifications![0].message)).toMatchObject({ error: 'THRESHOLD_CONFIDENCE_NOT_MET', input: testCase('scones', IMAGES[4].key) });
  });

  it('fails a missing key with ImageNotFound', async () => {
    const outcome = await single().execute(testCase('scones', 'data/test/no-such-image.png'));
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'ImageNotFound' });
    expect(JSON.parse(outcome.cause!).errorMessage).toContain('no object with key "data/test/no-such-image.png"');
  });

  it('retries Classify when the endpoint is briefly unavailable, then succeeds', async () => {
    // The endpoint answers 503 until the first classify invocation has failed (after the SDK's own retries).
    proxy.failing = true;
    let invocations = 0;
    const classify = handlers[LOCAL_FUNCTION_NAMES.classify];
    const healing: LambdaHandler = async (event, context) => {
      invocations++;
      try {
        return await classify(event, context);
      } finally {
        proxy.failing = false;
      }
    };
    const runner = new LocalWorkflowRunner(buildWorkflowDefinition(options), { handlers: { ...handlers, [LOCAL_FUNCTION_NAMES.classify]: healing }, retryIntervalScale: 0.01 });
    const outcome = await runner.execute(testCase('scones', IMAGES[3].key));
    expect(outcome.status).toBe('SUCCEEDED');
    expect((outcome.output as { body: { inferences: number[] } }).body.inferences).toEqual([0.05, 0.95]);
    expect(invocations).toBe(2);
    expect(proxy.refused).toBeGreaterThan(0);
    expect(outcome.history!.find((e) => e.type === 'StateFailed')).toMatchObject({ stateName: S.Classify, error: 'ServiceUnavailable' });
    expect(outcome.history!.filter((e) => e.type === 'StateRetried').map((e) => e.stateName)).toEqual([S.Classify]);
  });

  it('classifies every image under a prefix with the batch definition, recording per-image results', async () => {
    const runner = new LocalWorkflowRunner(buildBatchWorkflowDefinition({ ...options, maxConcurrency: 4 }), { handlers, s3: stack.s3Client, retryIntervalScale: 0.01 });
    const outcome = await runner.execute({ s3_bucket: 'scones', s3_prefix: 'data/test/' });
    expect(outcome.status).toBe('SUCCEEDED');
    const images = imageOutcomesOfBatch(outcome);
    expect(images.map((i) => i.s3_key).sort()).toEqual(IMAGES.map((i) => i.key).sort());
    const byKey = new Map(images.map((i) => [i.s3_key, i]));
    expect(byKey.get(IMAGES[2].key)).toEqual({ s3_key: IMAGES[2].key, status: 'SUCCEEDED', inferences: [0.85, 0.15] });
    for (const unsure of [4, 5, 6, 7]) expect(byKey.get(IMAGES[unsure].key)).toMatchObject({ status: 'FAILED', error: 'THRESHOLD_CONFIDENCE_NOT_MET' });

    const lst = await (await stack.s3Client.send(new GetObjectCommand({ Bucket: 'scones', Key: 'data/test.lst' }))).Body!.transformToString();
    const summary = summarizeImageOutcomes(images, groundTruthFromLst(lst, 'data/test.lst'));
    // Passed: images 0-3; image 1 (a motorcycle) was called a bicycle.
    expect(summary).toMatchObject({ images: 8, succeeded: 4, thresholdNotMet: 4, failedOtherwise: 0, accuracy: { evaluated: 4, correct: 3, accuracy: 0.75 } });
  });
});
