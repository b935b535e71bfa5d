import { base64DecodedLength, parseCaptureLine } from './capture-record';
import { createCaptureRecord } from './synthetic-traffic';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const line = (probabilities: number[] = [0.9, 0.1]) =>
  JSON.stringify(createCaptureRecord({ time: new Date('2026-03-01T10:00:00.123Z'), image: PNG, probabilities, eventId: 'e1' }));

describe('parseCaptureLine', () => {
  it('reduces a valid record to what monitoring needs', () => {
    const parsed = parseCaptureLine(line([0.3, 0.7]), 'k.jsonl', 3, 2);
    expect(parsed).toEqual({
      ok: true,
      record: {
        eventId: 'e1',
        time: Date.parse('2026-03-01T10:00:00.123Z'),
        file: 'k.jsonl',
        line: 3,
        contentType: 'image/png',
        inputBase64: PNG.toString('base64'),
        inputBytes: PNG.length,
        probabilities: [0.3, 0.7],
        predictedClass: 1,
        confidence: 0.7,
      },
    });
  });
  it.each([
    ['{"captureData":', 'not valid JSON'],
    ['[]', 'expected object'],
    [line().replace('"INPUT"', '"OUTPUT"'), 'captureData.endpointInput.mode: expected "INPUT"'],
    [line().replace('2026-03-01T10:00:00.123Z', 'yesterday'), 'eventMetadata.inferenceTime: expected an ISO-8601 UTC timestamp'],
    [line().replace('[0.9,0.1]', 'oops'), 'captureData.endpointOutput.data: not valid JSON'],
    [line([0.9, 0.3]), 'captureData.endpointOutput.data: expected class probabilities that sum to 1'],
    [line([0.5, 0.3, 0.2]), 'expected 2 class probabilities (one per class of the model), got 3'],
  ])('names the problem of a bad line: %s', (text, reason) => {
    const parsed = parseCaptureLine(text, 'data_capture/x.jsonl', 7, 2);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.malformed).toMatchObject({ file: 'data_capture/x.jsonl', line: 7 });
      expect(parsed.malformed.reason).toContain(reason);
    }
  });
});

describe('base64DecodedLength', () => {
  it('matches the decoded size for every padding', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 100]) {
      expect(base64DecodedLength(Buffer.alloc(n, 7).toString('base64'))).toBe(n);
    }
  });
});
