import { parseFunctionReference } from './function-name';

describe('function references', () => {
  it.each([
    ['my-function', { name: 'my-function' }],
    ['my-function:$LATEST', { name: 'my-function', qualifier: '$LATEST' }],
    ['my-function:prod', { name: 'my-function', qualifier: 'prod' }],
    ['123456789012:function:my-function', { name: 'my-function' }],
    ['arn:aws:lambda:eu-west-1:123456789012:function:my-function', { name: 'my-function' }],
    ['arn:aws-cn:lambda:cn-north-1:123456789012:function:my_function:7', { name: 'my_function', qualifier: '7' }],
    ['arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f', { name: 'f' }],
  ])('resolves %s', (reference, expected) => {
    expect(parseFunctionReference(reference)).toEqual(expected);
  });

  it('takes the Qualifier parameter when the reference has none, and refuses two different ones', () => {
    expect(parseFunctionReference('f', '$LATEST')).toEqual({ name: 'f', qualifier: '$LATEST' });
    expect(() => parseFunctionReference('f:1', '2')).toThrow('The derived qualifier from the function name does not match the specified qualifier.');
  });

  it.each(['', 'my function', 'arn:aws:s3:::bucket', 'f:a:b', 'x'.repeat(65)])('refuses %j, naming the member', (reference) => {
    expect(() => parseFunctionReference(reference)).toThrow(reference.length > 64 && !reference.includes(' ') ? /longer than 64 characters/ : /at 'functionName' failed to satisfy constraint/);
  });
});
