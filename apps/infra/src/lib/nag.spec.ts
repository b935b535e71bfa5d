import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { nagResourceText } from './nag';

describe('nagResourceText', () => {
  const stack = new Stack();
  const bucket = new Bucket(stack, 'Images');
  const id = stack.getLogicalId(bucket.node.defaultChild as never);

  it("writes tokens the way cdk-nag's finding ids do", () => {
    expect(nagResourceText(stack, bucket.arnForObjects('data/*'))).toBe(`<${id}.Arn>/data/*`);
    expect(nagResourceText(stack, bucket.bucketName)).toBe(`<${id}>`);
    expect(nagResourceText(stack, stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: 'x:*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }))).toBe(
      'arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:x:*',
    );
    expect(nagResourceText(stack, 'arn:aws:s3:::literal/*')).toBe('arn:aws:s3:::literal/*');
  });
});
