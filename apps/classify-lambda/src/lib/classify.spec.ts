import {
  InvokeEndpointCommand,
  ModelError,
  ModelNotReadyException,
  SageMakerRuntimeClient,
  SageMakerRuntimeServiceException,
  ValidationError,
  type InvokeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker-runtime';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import { classifiedResultSchema, parseOrThrow } from '@scones/payload-schemas';
import { localLambdaContext } from '@scones/local-cloud';
import { createClassifyHandler, readEndpointName } from './classify';

const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

/** An InvokeEndpoint answer body as the SDK returns it. */
function answer(text: string): InvokeEndpointCommandOutput['Body'] {
  return new Uint8Array(Buffer.from(text)) as InvokeEndpointCommandOutput['Body'];
}

describe('classify handler', () => {
  const sagemakerMock = mockClient(SageMakerRuntimeClient);
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const environment = { ENDPOINT_NAME: 'image-classification-2026-01-01' };
  const classify = createClassifyHandler({ sagemaker: new SageMakerRuntimeClient({ region: 'us-east-1' }), logger, environment });
  const event = { statusCode: 200, body: { image_data: PNG_B64, s3_bucket: 'scones', s3_key: 'data/test/bicycle_s_000513.png', inferences: [] } };

  beforeEach(() => {
    sagemakerMock.reset();
    jest.restoreAllMocks();
  });
  afterAll(() => sagemakerMock.restore());

  it('sends the decoded image to the endpoint of ENDPOINT_NAME and returns its probabilities', async () => {
    sagemakerMock.on(InvokeEndpointCommand).resolves({ Body: answer('[0.9307, 0.0693]'), ContentType: 'application/json' });
    const result = await classify(event);
    const requests = sagemakerMock.commandCalls(InvokeEndpointCommand).map((c) => c.args[0].input);
    expect(requests).toEqual([{ EndpointName: 'image-classification-2026-01-01', ContentType: 'image/png', Body: Buffer.from(PNG_B64, 'base64') }]);
    expect(result).toEqual({ statusCode: 200, body: { ...event.body, inferences: [0.9307, 0.0693] } });
    expect(parseOrThrow(classifiedResultSchema, result, 'result')).toEqual(result);
  });

  it('replaces inferences that are already there', async () => {
    sagemakerMock.on(InvokeEndpointCommand).resolves({ Body: answer('[0.2,0.8]') });
    const result = await classify({ ...event, body: { ...event.body, inferences: [0.5, 0.5] } });
    expect(result.body.inferences).toEqual([0.2, 0.8]);
  });

  it('logs with the invocation context, the endpoint and the probabilities', async () => {
    sagemakerMock.on(InvokeEndpointCommand).resolves({ Body: answer('[0.9,0.1]') });
    const addContext = jest.spyOn(logger, 'addContext');
    const info = jest.spyOn(logger, 'info');
    const context = localLambdaContext('classify-lambda', { awsRequestId: 'req-7' });
    await classify(event, context);
    expect(addContext).toHaveBeenCalledWith(context);
    expect(info).toHaveBeenCalledWith(
      'classified image',
      expect.objectContaining({ endpoint: 'image-classification-2026-01-01', s3_key: event.body.s3_key, inferences: [0.9, 0.1], latency_ms: expect.any(Number) }),
    );
  });

  it.each([
    [{ ...event, body: { ...event.body, s3_key: undefined } }, 'classify event: body.s3_key: is required (expected a non-empty string)'],
    [{ ...event, body: { ...event.body, image_data: 'not base64!' } }, 'classify event: body.image_data: expected base64 data'],
    [{ ...event, body: { ...event.body, image_data: '' } }, 'classify event: body.image_data: expected non-empty base64 image data'],
    [{ ...event, statusCode: 500 }, 'classify event: statusCode: expected 200'],
    [event.body, 'classify event: statusCode: is required'],
  ])('rejects the malformed event %j without calling the endpoint', async (bad, message) => {
    await expect(classify(bad)).rejects.toMatchObject({ name: 'PayloadValidationError', message: expect.stringContaining(message) });
    expect(sagemakerMock.calls()).toHaveLength(0);
  });

  it.each([
    ['{"error": "model not loaded"}', 'endpoint "image-classification-2026-01-01" answer: expected a JSON array of class probabilities (the endpoint answered: {"error": "model not loaded"})'],
    ['[1.5, -0.5]', 'endpoint "image-classification-2026-01-01" answer: [0]: expected a probability <= 1; [1]: expected a probability >= 0 (the endpoint answered: [1.5, -0.5])'],
    ['[0.9]', 'expected at least two class probabilities'],
    ['[0.5, 0.2]', 'expected class probabilities that sum to 1'],
    ['bicycle', 'not valid JSON'],
    ['', 'not valid JSON'],
  ])('fails with EndpointResponseInvalid when the endpoint answers %j', async (text, message) => {
    sagemakerMock.on(InvokeEndpointCommand).resolves({ Body: answer(text) });
    await expect(classify(event)).rejects.toMatchObject({ name: 'EndpointResponseInvalid', message: expect.stringContaining(message) });
  });

  it('shortens a long invalid answer in the message', async () => {
    sagemakerMock.on(InvokeEndpointCommand).resolves({ Body: answer(`"${'x'.repeat(5000)}"`) });
    const error = (await classify(event).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('EndpointResponseInvalid');
    expect(error.message.length).toBeLessThan(400);
  });

  it.each(['ThrottlingException', 'ServiceUnavailable', 'InternalFailure'])('lets the transient %s propagate unchanged for the Retry', async (name) => {
    const error = new SageMakerRuntimeServiceException({ name, $fault: 'server', $metadata: { httpStatusCode: name === 'ThrottlingException' ? 400 : 503 }, message: `${name}!` });
    sagemakerMock.on(InvokeEndpointCommand).rejects(error);
    await expect(classify(event)).rejects.toBe(error);
    expect(error.name).toBe(name);
  });

  it('lets ModelNotReadyException (a 429) propagate unchanged', async () => {
    const error = new ModelNotReadyException({ message: 'not ready', $metadata: { httpStatusCode: 429 } });
    sagemakerMock.on(InvokeEndpointCommand).rejects(error);
    await expect(classify(event)).rejects.toMatchObject({ name: 'ModelNotReadyException' });
  });

  it('names a network error after its code so the Retry can match it', async () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    sagemakerMock.on(InvokeEndpointCommand).rejects(error);
    await expect(classify(event)).rejects.toMatchObject({ name: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' });
  });

  it('reports an unknown endpoint (ValidationError) as EndpointResponseInvalid naming it', async () => {
    sagemakerMock.on(InvokeEndpointCommand).rejects(new ValidationError({ message: 'Endpoint image-classification-2026-01-01 of account 1 not found.', $metadata: { httpStatusCode: 400 } }));
    await expect(classify(event)).rejects.toMatchObject({
      name: 'EndpointResponseInvalid',
      message: 'endpoint "image-classification-2026-01-01" rejected the request: ValidationError: Endpoint image-classification-2026-01-01 of account 1 not found.',
    });
  });

  it('reports the model failing on the image (ModelError) as EndpointResponseInvalid', async () => {
    sagemakerMock.on(InvokeEndpointCommand).rejects(new ModelError({ message: 'Received client error (415)', OriginalStatusCode: 415, $metadata: { httpStatusCode: 424 } }));
    await expect(classify(event)).rejects.toMatchObject({ name: 'EndpointResponseInvalid', message: expect.stringContaining('ModelError: Received client error (415)') });
  });

  it('lets other server errors propagate unchanged', async () => {
    const error = new SageMakerRuntimeServiceException({ name: 'SomethingElse', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'boom' });
    sagemakerMock.on(InvokeEndpointCommand).rejects(error);
    await expect(classify(event)).rejects.toBe(error);
  });

  it('fails with a configuration error naming ENDPOINT_NAME before calling anything', async () => {
    const unconfigured = createClassifyHandler({ sagemaker: new SageMakerRuntimeClient({ region: 'us-east-1' }), logger, environment: {} });
    await expect(unconfigured(event)).rejects.toMatchObject({ name: 'LambdaConfigurationError', message: expect.stringMatching(/^ENDPOINT_NAME is not set/) });
    expect(sagemakerMock.calls()).toHaveLength(0);
  });
});

describe('readEndpointName', () => {
  it('accepts SageMaker endpoint names', () => {
    expect(readEndpointName({ ENDPOINT_NAME: 'scones-endpoint-1' })).toBe('scones-endpoint-1');
    expect(readEndpointName({ ENDPOINT_NAME: ' a ' })).toBe('a');
  });

  it.each([
    [undefined, 'ENDPOINT_NAME is not set'],
    ['', 'ENDPOINT_NAME is not set'],
    ['   ', 'ENDPOINT_NAME is not set'],
    ['my endpoint', 'ENDPOINT_NAME "my endpoint" is not a valid endpoint name'],
    ['-leading', 'is not a valid endpoint name'],
    ['x'.repeat(64), 'is not a valid endpoint name'],
  ])('rejects %j', (value, message) => {
    expect(() => readEndpointName({ ENDPOINT_NAME: value })).toThrow(expect.objectContaining({ name: 'LambdaConfigurationError', message: expect.stringContaining(message) }));
  });
});
