import { ContainerConfigError, readContainerConfig } from './container-config';

describe('readContainerConfig', () => {
  it("defaults to SageMaker's contract: port 8080 on all interfaces, model in /opt/ml/model, no capture", () => {
    expect(readContainerConfig(['serve'], {})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      modelDirectory: '/opt/ml/model',
      endpointName: 'scones-endpoint',
      capture: undefined,
      maxBodyBytes: 6 * 1024 * 1024,
      maxBatchSize: 32,
      maxQueue: 256,
      inferenceWorkers: 1,
      logLevel: 'info',
    });
    expect(readContainerConfig([], {}).port).toBe(8080);
  });

  it('reads the environment', () => {
    const config = readContainerConfig(['serve'], {
      PORT: '9000',
      SCONES_MODEL_DIR: '/models/job-1',
      SCONES_ENDPOINT_NAME: 'ep-1',
      SCONES_CAPTURE: 's3://scones/data_capture',
      SCONES_CAPTURE_SAMPLING: '50',
      SCONES_LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      port: 9000,
      modelDirectory: '/models/job-1',
      endpointName: 'ep-1',
      capture: { destination: { kind: 's3', bucket: 'scones', prefix: 'data_capture' }, samplingPercentage: 50, flushIntervalMs: 1000 },
      logLevel: 'debug',
    });
    expect(readContainerConfig(['serve'], { PORT: '9000', SAGEMAKER_BIND_TO_PORT: '8081' }).port).toBe(8081);
    expect(readContainerConfig(['serve'], { SCONES_CAPTURE: '/tmp/capture' }).capture?.destination).toEqual({ kind: 'directory', directory: '/tmp/capture', prefix: 'data_capture' });
    expect(readContainerConfig(['serve'], { SCONES_CAPTURE: '/tmp/capture', SCONES_CAPTURE_SPOOL: '/tmp/spool' }).capture?.spoolDirectory).toBe('/tmp/spool');
    expect(readContainerConfig(['serve'], { SCONES_INFERENCE_WORKERS: '0' }).inferenceWorkers).toBe(0);
  });

  it('names what is wrong', () => {
    expect(() => readContainerConfig(['train'], {})).toThrow(new ContainerConfigError('unknown command "train": this image only serves (SageMaker runs it as `serve`)'));
    expect(() => readContainerConfig(['serve', 'x'], {})).toThrow('unexpected arguments after "serve": x');
    expect(() => readContainerConfig(['serve'], { PORT: 'http' })).toThrow('PORT: expected an integer between 0 and 65535, got "http"');
    expect(() => readContainerConfig(['serve'], { SCONES_ENDPOINT_NAME: 'a_b' })).toThrow('SCONES_ENDPOINT_NAME: "a_b" is not a valid endpoint name');
    expect(() => readContainerConfig(['serve'], { SCONES_CAPTURE: 's3://scones', SCONES_CAPTURE_SAMPLING: '150' })).toThrow('SCONES_CAPTURE_SAMPLING: expected a percentage 0-100, got "150"');
    expect(() => readContainerConfig(['serve'], { SCONES_CAPTURE_SPOOL: '/tmp/spool' })).toThrow('SCONES_CAPTURE_SPOOL: a capture spool needs data capture (set SCONES_CAPTURE)');
    expect(() => readContainerConfig(['serve'], { SCONES_INFERENCE_WORKERS: '-1' })).toThrow('SCONES_INFERENCE_WORKERS: expected an integer between 0 and 16, got "-1"');
    expect(() => readContainerConfig(['serve'], { SCONES_CAPTURE: 's3://UPPER' })).toThrow('SCONES_CAPTURE: capture destination "s3://UPPER": "UPPER" is not a valid S3 bucket name');
  });
});
