import { TargetConfigError } from '../errors';
import { LOCAL_CREDENTIALS, stackTarget } from './target';
import { createSageMakerClient, sageMakerClientConfig } from './sagemaker-client';

describe('sageMakerClientConfig', () => {
  it('uses the SDK defaults on AWS, with the region when given', async () => {
    expect(sageMakerClientConfig({ kind: 'aws' })).toEqual({});
    expect(await createSageMakerClient({ kind: 'aws', region: 'eu-west-1' }).config.region()).toBe('eu-west-1');
  });
  it('refuses a local target that names no stack URL', () => {
    expect(() => sageMakerClientConfig({ kind: 'local', s3Endpoint: 'http://127.0.0.1:1' })).toThrow(TargetConfigError);
  });
  it('points at the local stack', async () => {
    const config = sageMakerClientConfig(stackTarget('http://127.0.0.1:4566'));
    expect(config).toMatchObject({ endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  });
});
