import { localLambdaContext } from './lambda-context';

describe('localLambdaContext', () => {
  it('gives every invocation a fresh request id unless one is given', () => {
    const a = localLambdaContext('serialize-lambda');
    const b = localLambdaContext('serialize-lambda');
    expect(a.awsRequestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.awsRequestId).not.toBe(b.awsRequestId);
    expect(localLambdaContext('f', { awsRequestId: 'req-1' }).awsRequestId).toBe('req-1');
  });

  it('describes the function like the Lambda runtime does', () => {
    const context = localLambdaContext('classify-lambda', { memoryLimitInMB: 512, region: 'eu-west-1' });
    expect(context).toMatchObject({
      functionName: 'classify-lambda',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:classify-lambda',
      memoryLimitInMB: '512',
      logGroupName: '/aws/lambda/classify-lambda',
    });
  });

  it('counts the remaining time down from the timeout', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const context = localLambdaContext('f', { timeoutMs: 3000 });
      expect(context.getRemainingTimeInMillis()).toBe(3000);
      jest.setSystemTime(1_002_500);
      expect(context.getRemainingTimeInMillis()).toBe(500);
      jest.setSystemTime(1_010_000);
      expect(context.getRemainingTimeInMillis()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('rejects the deprecated callback methods with a clear error', () => {
    expect(() => localLambdaContext('f').succeed('x')).toThrow('f: the callback-style context methods (done, fail, succeed) are not supported; return a promise');
  });
});
