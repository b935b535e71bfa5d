import { TargetConfigError } from '../errors';
import { createStepFunctionsClient, stepFunctionsClientConfig } from './step-functions-client';

describe('stepFunctionsClientConfig', () => {
  it('uses the SDK defaults on AWS, with the region when given', async () => {
    expect(stepFunctionsClientConfig({ kind: 'aws' })).toEqual({});
    expect(await createStepFunctionsClient({ kind: 'aws', region: 'eu-west-1' }).config.region()).toBe('eu-west-1');
  });
  it('refuses a local target', () => {
    expect(() => stepFunctionsClientConfig({ kind: 'local', s3Endpoint: 'http://127.0.0.1:1' })).toThrow(TargetConfigError);
  });
});
