import { synthesize } from '../../test/synth';

describe('FailureNotifications', () => {
  it('is a topic encrypted with the AWS managed SNS key that accepts publishing over TLS only', () => {
    const s = synthesize({});
    const topic = s.id(s.stack.notifications.topic);
    s.template.resourceCountIs('AWS::SNS::Topic', 1);
    s.template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'Scones workflow failures',
      KmsMasterKeyId: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alias/aws/sns']] },
    });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topic }],
      PolicyDocument: {
        Statement: [
          { Sid: 'AllowPublishThroughSSLOnly', Action: 'sns:Publish', Effect: 'Deny', Principal: '*', Resource: { Ref: topic }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
        ],
        Version: '2012-10-17',
      },
    });
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes notificationEmail by e-mail', () => {
    const s = synthesize({ notificationEmail: 'ops@example.com' });
    s.template.resourceCountIs('AWS::SNS::Subscription', 1);
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: s.id(s.stack.notifications.topic) },
    });
  });
});
