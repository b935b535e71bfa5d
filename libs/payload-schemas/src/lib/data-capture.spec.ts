import { dataCaptureKey, dataCapturePrefix, dataCaptureRecordSchema, parseDataCaptureKey } from './data-capture';
import { parseOrThrow } from './parse';

// A record as SageMaker Model Monitor writes it (one JSONL line).
const SAGEMAKER_LINE =
  '{"captureData":{"endpointInput":{"observedContentType":"image/png","mode":"INPUT","data":"iVBORw0KGgo=","encoding":"BASE64"},' +
  '"endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"[0.98,0.02]","encoding":"JSON"}},' +
  '"eventMetadata":{"eventId":"6ece5c74-7497-43f1-a34f-2a15c8ae4bfe","inferenceTime":"2021-11-22T22:49:05Z"},"eventVersion":"0"}';

describe('dataCaptureRecordSchema', () => {
  it('accepts a SageMaker Model Monitor record', () => {
    const record = parseOrThrow(dataCaptureRecordSchema, JSON.parse(SAGEMAKER_LINE), 'capture record');
    expect(record.captureData.endpointOutput.data).toBe('[0.98,0.02]');
  });

  it('names what is wrong in a bad record', () => {
    const bad = JSON.parse(SAGEMAKER_LINE);
    bad.captureData.endpointInput.mode = 'OUTPUT';
    bad.eventMetadata.inferenceTime = 'yesterday';
    delete bad.eventVersion;
    expect(() => parseOrThrow(dataCaptureRecordSchema, bad, 'capture record')).toThrow(
      'capture record: captureData.endpointInput.mode: expected "INPUT"; eventMetadata.inferenceTime: expected an ISO-8601 UTC timestamp; eventVersion: is required (expected "0")',
    );
  });
});

describe('dataCaptureKey', () => {
  const time = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
  it("builds SageMaker's key layout in UTC", () => {
    expect(dataCaptureKey({ endpointName: 'scones', time, id: 'abc' })).toBe('data_capture/scones/AllTraffic/2026/01/02/03/04-05-006-abc.jsonl');
    expect(dataCapturePrefix('scones', { hour: time })).toBe('data_capture/scones/AllTraffic/2026/01/02/03/');
  });
  it('parses a key back and rejects other keys', () => {
    const key = dataCaptureKey({ endpointName: 'scones', time, id: 'abc' });
    expect(parseDataCaptureKey(key)).toEqual({ endpointName: 'scones', variant: 'AllTraffic', time, id: 'abc' });
    expect(parseDataCaptureKey('data/test/x.png')).toBeUndefined();
  });
});
