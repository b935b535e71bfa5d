import { TargetConfigError } from '../errors';
import { createSageMakerClient, sageMakerClientConfig } from './sagemaker-client';

describe('sageMakerClientConfig', () => {
  it('uses the SDK defaults on AWS, with the region when given', async () => {
    expect(sageMakerClientConfig({ kind: 'aws' })).toEqual({});
    expect(await createSageMakerClient({ kind: 'aws', region: 'eu-west-1' }).config.region()).toBe('eu-west-1');
  });
  it('refuses a local target', () => {
    expect(() => sageMakerClientConfig({ kind: 'local', s3Endpoint: 'http://127.0.0.1:1' })).toThrow(TargetConfigError);
  });
});
