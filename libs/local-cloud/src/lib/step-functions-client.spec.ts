import { TargetConfigError } from '../errors';
import { LOCAL_CREDENTIALS, stackTarget } from './target';
import { createStepFunctionsClient, stepFunctionsClientConfig } from './step-functions-client';

describe('stepFunctionsClientConfig', () => {
  it('uses the SDK defaults on AWS, with the region when given', async () => {
    expect(stepFunctionsClientConfig({ kind: 'aws' })).toEqual({});
    expect(await createStepFunctionsClient({ kind: 'aws', region: 'eu-west-1' }).config.region()).toBe('eu-west-1');
  });
  it('refuses a local target that names no stack URL', () => {
    expect(() => stepFunctionsClientConfig({ kind: 'local', s3Endpoint: 'http://127.0.0.1:1' })).toThrow(TargetConfigError);
  });
  it('points at the local stack', async () => {
    const config = stepFunctionsClientConfig(stackTarget('http://127.0.0.1:4566'));
    expect(config).toMatchObject({ endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  });
});
