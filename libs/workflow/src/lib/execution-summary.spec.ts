import { PayloadValidationError } from '@scones/payload-schemas';
import type { ExecutionOutcome } from './execution';
import { groundTruthFromLst, imageOutcomeOfExecution, imageOutcomesOfBatch, summarizeImageOutcomes, topClass, type ImageOutcome } from './execution-summary';

const LST = ['0\t0\tbicycle_s_000513.png', '1\t1\tmotorcycle_s_000001.png', '2\t0\tbike_s_000002.png', ''].join('\n');

function execution(fields: Partial<ExecutionOutcome>): ExecutionOutcome {
  return {
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:m:e',
    name: 'e',
    status: 'SUCCEEDED',
    input: { image_data: '', s3_bucket: 'scones', s3_key: 'data/test/bicycle_s_000513.png' },
    startDate: '2024-01-01T00:00:00.000Z',
    stopDate: '2024-01-01T00:00:00.020Z',
    durationMs: 20,
    ...fields,
  };
}

describe('groundTruthFromLst', () => {
  it('labels the keys of the channel the manifest describes', () => {
    const truth = groundTruthFromLst(LST, 'data/test.lst', 's3://scones/data/test.lst');
    expect(truth.source).toBe('s3://scones/data/test.lst');
    expect(truth.labelOf('data/test/motorcycle_s_000001.png')).toBe(1);
    expect(truth.labelOf('data/test/bike_s_000002.png')).toBe(0);
    expect(truth.labelOf('data/train/motorcycle_s_000001.png')).toBeUndefined();
  });

  it('names the file and line of a broken manifest', () => {
    expect(() => groundTruthFromLst('0\tx\ta.png\n', 'data/test.lst')).toThrow(PayloadValidationError);
    expect(() => groundTruthFromLst('0\tx\ta.png\n', 'data/test.lst')).toThrow(/data\/test\.lst line 1: label/);
  });
});

describe('imageOutcomeOfExecution', () => {
  it('takes the inferences of a passed image from the output', () => {
    const outcome = execution({ output: { statusCode: 200, body: { s3_key: 'data/test/bicycle_s_000513.png', inferences: [0.9, 0.1] } } });
    expect(imageOutcomeOfExecution(outcome)).toEqual({
      s3_key: 'data/test/bicycle_s_000513.png',
      status: 'SUCCEEDED',
      inferences: [0.9, 0.1],
      durationMs: 20,
      executionArn: outcome.executionArn,
    });
  });

  it('keeps the error and, from the local history, what the classifier said about a rejected image', () => {
    const outcome = execution({
      status: 'FAILED',
      error: 'THRESHOLD_CONFIDENCE_NOT_MET',
      cause: '{"errorType":"THRESHOLD_CONFIDENCE_NOT_MET"}',
      history: [
        { type: 'StateExited', timestamp: 1, stateName: 'Serialize', output: { body: { inferences: [] } } },
        { type: 'StateExited', timestamp: 2, stateName: 'Classify', output: { body: { inferences: [0.55, 0.45] } } },
      ],
    });
    expect(imageOutcomeOfExecution(outcome)).toMatchObject({ status: 'FAILED', error: 'THRESHOLD_CONFIDENCE_NOT_MET', inferences: [0.55, 0.45], cause: outcome.cause });
  });

  it("reads the inferences of course-style functions: body and inferences as JSON strings, or still in the integration's Payload", () => {
    const asStrings = execution({ output: { statusCode: 200, body: JSON.stringify({ s3_key: 'k', inferences: '[0.97, 0.03]' }) } });
    expect(imageOutcomeOfExecution(asStrings)).toMatchObject({ status: 'SUCCEEDED', inferences: [0.97, 0.03] });
    const wrapped = execution({ output: { ExecutedVersion: '$LATEST', Payload: { statusCode: 200, body: { inferences: [0.2, 0.8] } }, StatusCode: 200 } });
    expect(imageOutcomeOfExecution(wrapped).inferences).toEqual([0.2, 0.8]);
    expect(imageOutcomeOfExecution(execution({ output: { body: 'not json' } })).inferences).toBeUndefined();
    // The course's filter returns `{"body": json.dumps(event)}`: the classifier's answer, wrapped again.
    const rewrapped = execution({ output: { statusCode: 200, body: JSON.stringify({ statusCode: 200, body: JSON.stringify({ inferences: [0.1, 0.9] }) }) } });
    expect(imageOutcomeOfExecution(rewrapped).inferences).toEqual([0.1, 0.9]);
  });

  it('counts an execution that timed out or was aborted as failed', () => {
    expect(imageOutcomeOfExecution(execution({ status: 'TIMED_OUT' })).error).toBe('States.Timeout');
    expect(imageOutcomeOfExecution(execution({ status: 'ABORTED' })).error).toBe('ExecutionAborted');
  });
});

describe('imageOutcomesOfBatch', () => {
  it("turns the batch output's results into image outcomes, in order", () => {
    const outcome = execution({
      input: { s3_bucket: 'scones', s3_keys: ['a', 'b'] },
      output: { s3_bucket: 'scones', count: 2, results: [{ s3_key: 'a', inferences: [0.2, 0.8] }, { s3_key: 'b', error: 'ImageNotFound', cause: 'gone' }] },
    });
    expect(imageOutcomesOfBatch(outcome)).toEqual([
      { s3_key: 'a', status: 'SUCCEEDED', inferences: [0.2, 0.8] },
      { s3_key: 'b', status: 'FAILED', error: 'ImageNotFound', cause: 'gone' },
    ]);
  });

  it('has no image outcomes for a batch that failed as a whole', () => {
    expect(imageOutcomesOfBatch(execution({ status: 'FAILED', error: 'NoImagesFound' }))).toEqual([]);
  });
});

describe('summarizeImageOutcomes', () => {
  const truth = groundTruthFromLst(LST, 'data/test.lst');
  const images: ImageOutcome[] = [
    { s3_key: 'data/test/bicycle_s_000513.png', status: 'SUCCEEDED', inferences: [0.9, 0.1], durationMs: 10 },
    { s3_key: 'data/test/motorcycle_s_000001.png', status: 'SUCCEEDED', inferences: [0.95, 0.05], durationMs: 30 },
    { s3_key: 'data/test/bike_s_000002.png', status: 'FAILED', error: 'THRESHOLD_CONFIDENCE_NOT_MET', durationMs: 20 },
    { s3_key: 'data/test/gone.png', status: 'FAILED', error: 'ImageNotFound', durationMs: 5 },
    { s3_key: 'data/test/unknown.png', status: 'SUCCEEDED', inferences: [0.1, 0.9], durationMs: 40 },
  ];

  it('counts passed, threshold-rejected and otherwise failed images, and scores passed predictions', () => {
    const summary = summarizeImageOutcomes(images, truth);
    expect(summary).toMatchObject({
      images: 5,
      succeeded: 3,
      thresholdNotMet: 1,
      failedOtherwise: 1,
      failuresByError: { THRESHOLD_CONFIDENCE_NOT_MET: 1, ImageNotFound: 1 },
      // The motorcycle was predicted as a bicycle; the unknown key is not in the manifest.
      accuracy: { source: 'data/test.lst', evaluated: 2, correct: 1, accuracy: 0.5, unlabeled: 1 },
    });
    expect(summary.latencyMs).toMatchObject({ count: 5, p50: 20, max: 40 });
  });

  it('leaves accuracy out without ground truth, and is null when nothing passed', () => {
    expect(summarizeImageOutcomes(images)).not.toHaveProperty('accuracy');
    expect(summarizeImageOutcomes([images[2]], truth).accuracy).toMatchObject({ evaluated: 0, accuracy: null });
  });

  it('finds the top class', () => {
    expect(topClass([0.2, 0.7, 0.1])).toBe(1);
    expect(topClass([0.5, 0.5])).toBe(0);
  });
});
