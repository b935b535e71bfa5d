import { classifiedResultSchema, lambdaResultSchema } from './lambda-result';
import { parseOrThrow } from './parse';

// A 1x1 PNG, base64 as Python's base64.b64encode writes it.
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

describe('lambdaResultSchema', () => {
  it('accepts the exact JSON the Udacity starter serializeImageData Lambda emits', () => {
    const starter = JSON.parse(
      `{"statusCode": 200, "body": {"image_data": "${PNG_B64}", "s3_bucket": "sagemaker-us-east-1-123456789012", "s3_key": "test/bicycle_s_000513.png", "inferences": []}}`,
    );
    expect(parseOrThrow(lambdaResultSchema, starter, 'serialize result')).toEqual(starter);
  });

  it('accepts the classify Lambda result with probabilities', () => {
    const starter = JSON.parse(
      `{"statusCode": 200, "body": {"image_data": "${PNG_B64}", "s3_bucket": "b", "s3_key": "test/x.png", "inferences": [0.9307, 0.0693]}}`,
    );
    expect(parseOrThrow(classifiedResultSchema, starter, 'classify result').body.inferences).toEqual([0.9307, 0.0693]);
  });

  it('rejects a wrong status code, missing body fields and bad inferences', () => {
    const body = { image_data: PNG_B64, s3_bucket: 'b', s3_key: 'k', inferences: [] };
    expect(() => parseOrThrow(lambdaResultSchema, { statusCode: 500, body }, 'result')).toThrow('result: statusCode: expected 200');
    expect(() => parseOrThrow(lambdaResultSchema, { statusCode: 200, body: { ...body, s3_key: undefined } }, 'result')).toThrow('body.s3_key: is required');
    expect(() => parseOrThrow(lambdaResultSchema, { statusCode: 200, body: { ...body, image_data: '' } }, 'result')).toThrow('body.image_data: expected non-empty base64 image data');
    expect(() => parseOrThrow(lambdaResultSchema, { statusCode: 200, body: { ...body, inferences: ['a'] } }, 'result')).toThrow(/body\.inferences/);
    expect(() => parseOrThrow(classifiedResultSchema, { statusCode: 200, body }, 'classify result')).toThrow(/body\.inferences: expected at least two class probabilities/);
  });

  it('rejects a body sent as a JSON string', () => {
    expect(() => parseOrThrow(lambdaResultSchema, { statusCode: 200, body: '{}' }, 'result')).toThrow('result: body: expected object, got string');
  });
});
