import { Logger } from '@aws-lambda-powertools/logger';
import { localLambdaContext } from '@scones/local-cloud';
import { createFilterHandler, readThreshold } from './filter';

const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

function classified(inferences: number[]) {
  return { statusCode: 200, body: { image_data: PNG_B64, s3_bucket: 'scones', s3_key: 'data/test/bicycle_s_000513.png', inferences } };
}

describe('filter handler', () => {
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const filterAt = (THRESHOLD: string) => createFilterHandler({ logger, environment: { THRESHOLD } });

  beforeEach(() => jest.restoreAllMocks());

  it('passes the envelope through unchanged when the top probability exceeds the threshold', async () => {
    const event = classified([0.97, 0.03]);
    await expect(filterAt('0.93')(event)).resolves.toEqual(event);
    // The top class may be any class, not only the first.
    await expect(filterAt('0.93')(classified([0.01, 0.99]))).resolves.toEqual(classified([0.01, 0.99]));
  });

  it('passes at exactly the threshold', async () => {
    await expect(filterAt('0.93')(classified([0.93, 0.07]))).resolves.toEqual(classified([0.93, 0.07]));
    await expect(filterAt('1')(classified([1, 0]))).resolves.toEqual(classified([1, 0]));
  });

  it('fails with THRESHOLD_CONFIDENCE_NOT_MET as both name and message just below the threshold', async () => {
    const error = (await filterAt('0.93')(classified([0.9299, 0.0701])).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('THRESHOLD_CONFIDENCE_NOT_MET');
    expect(error.message).toBe('THRESHOLD_CONFIDENCE_NOT_MET');
  });

  it('passes everything at THRESHOLD=0 and only certainty at THRESHOLD=1', async () => {
    await expect(filterAt('0')(classified([0.5, 0.5]))).resolves.toEqual(classified([0.5, 0.5]));
    await expect(filterAt('1')(classified([0.9999, 0.0001]))).rejects.toMatchObject({ name: 'THRESHOLD_CONFIDENCE_NOT_MET' });
  });

  it('logs the decision with the invocation context, confidence and threshold', async () => {
    const addContext = jest.spyOn(logger, 'addContext');
    const info = jest.spyOn(logger, 'info');
    const context = localLambdaContext('filter-lambda', { awsRequestId: 'req-9' });
    await filterAt('0.8')(classified([0.85, 0.15]), context);
    await filterAt('0.8')(classified([0.6, 0.4]), context).catch(() => undefined);
    expect(addContext).toHaveBeenCalledWith(context);
    expect(info.mock.calls).toEqual([
      ['confidence meets threshold', expect.objectContaining({ s3_key: 'data/test/bicycle_s_000513.png', confidence: 0.85, threshold: 0.8 })],
      ['confidence below threshold', expect.objectContaining({ confidence: 0.6, threshold: 0.8, inferences: [0.6, 0.4] })],
    ]);
  });

  it('logs a fresh request id on every direct call without a context', async () => {
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
    const realLogger = new Logger({ serviceName: 'filter-lambda' });
    const filter = createFilterHandler({ logger: realLogger, environment: { THRESHOLD: '0.5' } });
    await filter(classified([0.9, 0.1]), localLambdaContext('filter-lambda', { awsRequestId: 'req-given' }));
    await filter(classified([0.9, 0.1]));
    await filter(classified([0.9, 0.1]));
    write.mockRestore();
    const ids = lines.map((line) => (JSON.parse(line) as { function_request_id: string }).function_request_id);
    expect(ids).toHaveLength(3);
    expect(ids[0]).toBe('req-given');
    expect(new Set(ids).size).toBe(3);
  });

  it.each([
    [classified([]), 'filter event: body.inferences: expected at least two class probabilities'],
    [classified([1.5, -0.5]), 'filter event: body.inferences[0]: expected a probability <= 1'],
    [{ ...classified([0.9, 0.1]), body: { ...classified([0.9, 0.1]).body, s3_key: '' } }, 'filter event: body.s3_key: expected a non-empty string'],
    [{ body: classified([0.9, 0.1]).body }, 'filter event: statusCode: is required'],
  ])('rejects the malformed event %j', async (bad, message) => {
    await expect(filterAt('0.5')(bad)).rejects.toMatchObject({ name: 'PayloadValidationError', message: expect.stringContaining(message) });
  });

  it('fails with a configuration error naming THRESHOLD when it is not set', async () => {
    const unconfigured = createFilterHandler({ logger, environment: {} });
    await expect(unconfigured(classified([0.9, 0.1]))).rejects.toMatchObject({ name: 'LambdaConfigurationError', message: expect.stringMatching(/^THRESHOLD is not set/) });
  });
});

describe('readThreshold', () => {
  it.each([
    ['0.93', 0.93],
    [' 0.5 ', 0.5],
    ['1', 1],
    ['0', 0],
    ['.75', 0.75],
    ['9.3e-1', 0.93],
  ])('reads %j as %d', (raw, value) => {
    expect(readThreshold({ THRESHOLD: raw })).toBe(value);
  });

  it.each([
    [undefined, 'THRESHOLD is not set'],
    ['', 'THRESHOLD is not set'],
    ['1.5', 'THRESHOLD "1.5" is not a number between 0 and 1'],
    ['-0.1', 'THRESHOLD "-0.1" is not a number between 0 and 1'],
    ['abc', 'THRESHOLD "abc" is not a number between 0 and 1'],
    ['0x1', 'THRESHOLD "0x1" is not a number between 0 and 1'],
    ['93%', 'THRESHOLD "93%" is not a number between 0 and 1'],
    ['NaN', 'THRESHOLD "NaN" is not a number between 0 and 1'],
  ])('rejects %j', (raw, message) => {
    expect(() => readThreshold({ THRESHOLD: raw })).toThrow(expect.objectContaining({ name: 'LambdaConfigurationError', message: expect.stringContaining(message) }));
  });
});
