import { GetObjectCommand, NoSuchBucket, NoSuchKey, S3Client, S3ServiceException, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaResultSchema, parseOrThrow } from '@scones/payload-schemas';
import { localLambdaContext } from '@scones/local-cloud';
import { MAX_IMAGE_BYTES, createSerializeHandler } from './serialize';

// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');

/** A GetObject body as the SDK returns it (only the method the handler uses). */
function body(bytes: Uint8Array): GetObjectCommandOutput['Body'] {
  return { transformToByteArray: async () => bytes } as unknown as GetObjectCommandOutput['Body'];
}

describe('serialize handler', () => {
  const s3Mock = mockClient(S3Client);
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const serialize = createSerializeHandler({ s3: new S3Client({ region: 'us-east-1' }), logger });
  const event = { image_data: '', s3_bucket: 'scones', s3_key: 'data/test/bicycle_s_000513.png' };

  beforeEach(() => {
    s3Mock.reset();
    jest.restoreAllMocks();
  });
  afterAll(() => s3Mock.restore());

  it('reads exactly the object of the event and returns the starter envelope', async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body(PNG) });
    const result = await serialize(event);
    expect(s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'scones', Key: 'data/test/bicycle_s_000513.png' },
    ]);
    expect(result).toEqual({
      statusCode: 200,
      body: { image_data: PNG.toString('base64'), s3_bucket: 'scones', s3_key: 'data/test/bicycle_s_000513.png', inferences: [] },
    });
    expect(parseOrThrow(lambdaResultSchema, result, 'result')).toEqual(result);
  });

  it('accepts the event without image_data, and ignores a given image_data', async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body(PNG) });
    const withoutImage = await serialize({ s3_bucket: 'scones', s3_key: 'k.png' });
    const withImage = await serialize({ s3_bucket: 'scones', s3_key: 'k.png', image_data: 'AAAA' });
    expect(withoutImage.body.image_data).toBe(PNG.toString('base64'));
    expect(withImage.body.image_data).toBe(PNG.toString('base64'));
  });

  it('logs with the invocation context and the object read', async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body(PNG) });
    const addContext = jest.spyOn(logger, 'addContext');
    const info = jest.spyOn(logger, 'info');
    const context = localLambdaContext('serialize-lambda', { awsRequestId: 'req-42' });
    await serialize(event, context);
    expect(addContext).toHaveBeenCalledWith(context);
    expect(info).toHaveBeenCalledWith('serialized image', { s3_bucket: 'scones', s3_key: event.s3_key, bytes: PNG.length });
  });

  it.each([
    [{ s3_bucket: 'scones' }, 'serialize event: s3_key: is required (expected a non-empty string)'],
    [{ s3_bucket: '', s3_key: 'k' }, 'serialize event: s3_bucket: expected a non-empty string'],
    [{ s3_bucket: 'scones', s3_key: 'k', image_data: 'not base64!' }, 'serialize event: image_data:'],
    ['{"s3_bucket": "scones"}', 'serialize event: expected object, got string'],
  ])('rejects the malformed event %j without calling S3', async (bad, message) => {
    await expect(serialize(bad)).rejects.toMatchObject({ name: 'PayloadValidationError', message: expect.stringContaining(message) });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('reports a missing key as ImageNotFound naming bucket and key', async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    await expect(serialize(event)).rejects.toMatchObject({
      name: 'ImageNotFound',
      message: 's3://scones/data/test/bicycle_s_000513.png: no object with key "data/test/bicycle_s_000513.png" in bucket "scones" (S3: NoSuchKey)',
    });
  });

  it('reports a missing bucket as ImageNotFound naming the bucket', async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: { httpStatusCode: 404 } }));
    await expect(serialize(event)).rejects.toMatchObject({ name: 'ImageNotFound', message: expect.stringContaining('bucket "scones" does not exist') });
  });

  it('reports a bare 404 (no error code) as ImageNotFound', async () => {
    s3Mock.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'UnknownError', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: '' }));
    await expect(serialize(event)).rejects.toMatchObject({ name: 'ImageNotFound' });
  });

  it.each([
    ['SlowDown', 'server' as const, 503],
    ['AccessDenied', 'client' as const, 403],
    ['InternalError', 'server' as const, 500],
  ])('lets %s propagate unchanged for the state machine to handle', async (name, $fault, httpStatusCode) => {
    const error = new S3ServiceException({ name, $fault, $metadata: { httpStatusCode }, message: `${name} from S3` });
    s3Mock.on(GetObjectCommand).rejects(error);
    await expect(serialize(event)).rejects.toBe(error);
  });

  it('rejects an empty object', async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body(new Uint8Array()) });
    await expect(serialize(event)).rejects.toMatchObject({
      name: 'PayloadValidationError',
      message: 'image s3://scones/data/test/bicycle_s_000513.png: the object is empty (0 bytes)',
    });
  });

  it('rejects an image too large for the Step Functions state payload, and accepts the largest allowed', async () => {
    s3Mock.on(GetObjectCommand).resolvesOnce({ Body: body(new Uint8Array(MAX_IMAGE_BYTES)) }).resolvesOnce({ Body: body(new Uint8Array(MAX_IMAGE_BYTES + 1)) });
    const largest = await serialize(event);
    expect(Buffer.byteLength(JSON.stringify(largest))).toBeLessThan(256 * 1024);
    await expect(serialize(event)).rejects.toMatchObject({ name: 'PayloadValidationError', message: expect.stringContaining(`${MAX_IMAGE_BYTES + 1} bytes is too large`) });
  });
});
