import { readReportJobConfig } from './job-config';

describe('readReportJobConfig', () => {
  it('reads the job from the environment with defaults for the optional parts', () => {
    expect(readReportJobConfig({ BUCKET: 'scones', ENDPOINT_NAME: 'scones-endpoint' })).toEqual({
      bucket: 'scones',
      endpointName: 'scones-endpoint',
      manifestKey: undefined,
      modelPrefix: 'models/',
      lookbackMs: 86_400_000,
      capturePrefix: 'data_capture',
      reportPrefix: 'reports/',
      schedule: 'scones-report',
      embeddingSampleSize: 500,
      outputDirectory: undefined,
    });
    expect(readReportJobConfig({ BUCKET: 'b', ENDPOINT_NAME: 'e', LOOKBACK: '1h', MODEL_MANIFEST_KEY: 'models/j/manifest.json', OUTPUT_DIR: '/tmp/r' })).toMatchObject({
      lookbackMs: 3_600_000,
      manifestKey: 'models/j/manifest.json',
      outputDirectory: '/tmp/r',
    });
  });
  it('names the variable that is missing or wrong', () => {
    expect(() => readReportJobConfig({ ENDPOINT_NAME: 'e' })).toThrow('BUCKET is not set: expected the S3 bucket holding data_capture/ and models/');
    expect(() => readReportJobConfig({ BUCKET: 'b', ENDPOINT_NAME: ' ' })).toThrow('ENDPOINT_NAME is not set');
    expect(() => readReportJobConfig({ BUCKET: 'b', ENDPOINT_NAME: 'e', LOOKBACK: 'a day' })).toThrow('LOOKBACK "a day": expected a duration like 1h, 24h or 7d');
    expect(() => readReportJobConfig({ BUCKET: 'b', ENDPOINT_NAME: '<script>' })).toThrow('ENDPOINT_NAME "<script>": expected 1-63 letters, digits and hyphens');
    expect(() => readReportJobConfig({ BUCKET: 'b', ENDPOINT_NAME: 'e', SCHEDULE_NAME: 'a/b' })).toThrow('SCHEDULE_NAME "a/b"');
    expect(() => readReportJobConfig({ BUCKET: 'b', ENDPOINT_NAME: 'e', EMBEDDING_SAMPLE_SIZE: '1e3' })).toThrow('EMBEDDING_SAMPLE_SIZE "1e3": expected a whole number >= 0');
    expect(readReportJobConfig({ BUCKET: 'b', ENDPOINT_NAME: 'e', SCHEDULE_NAME: 'hourly', EMBEDDING_SAMPLE_SIZE: '0' })).toMatchObject({ schedule: 'hourly', embeddingSampleSize: 0 });
  });
});
