import { STACK_OUTPUT_KEYS } from '@scones/local-cloud';
import { MODEL_DATA_URL, synthesize } from '../../test/synth';

describe('SconesStack', () => {
  it('exports every output scones reads, under the shared keys and stable export names', () => {
    const s = synthesize({ modelDataUrl: MODEL_DATA_URL });
    const { stateMachines, notifications, data, endpoint } = s.stack;
    const outputs = s.template.findOutputs('*');
    expect(Object.keys(outputs).sort()).toEqual(Object.values(STACK_OUTPUT_KEYS).sort());
    expect(outputs).toMatchObject({
      BucketName: { Value: { Ref: s.id(data.bucket) }, Export: { Name: 'SconesStack-BucketName' } },
      StateMachineArn: { Value: { Ref: s.id(stateMachines.single) }, Export: { Name: 'SconesStack-StateMachineArn' } },
      BatchStateMachineArn: { Value: { Ref: s.id(stateMachines.batch) }, Export: { Name: 'SconesStack-BatchStateMachineArn' } },
      EndpointName: { Value: { 'Fn::GetAtt': [s.id(endpoint!.endpoint), 'EndpointName'] }, Export: { Name: 'SconesStack-EndpointName' } },
      TopicArn: { Value: { Ref: s.id(notifications.topic) }, Export: { Name: 'SconesStack-TopicArn' } },
    });
  });

  it('takes its name and environment from context', () => {
    const s = synthesize({ stackName: 'Scones-Dev', account: '123456789012', region: 'eu-west-1' });
    expect(s.stack.stackName).toBe('Scones-Dev');
    expect(s.stack.resolve(s.stack.account)).toBe('123456789012');
    expect(s.stack.resolve(s.stack.region)).toBe('eu-west-1');
    s.template.hasOutput('TopicArn', { Export: { Name: 'Scones-Dev-TopicArn' } });
  });

  it('is environment-agnostic by default, so synth needs no credentials or lookups', () => {
    const s = synthesize({});
    expect(s.stack.resolve(s.stack.region)).toEqual({ Ref: 'AWS::Region' });
    expect(s.stack.resolve(s.stack.account)).toEqual({ Ref: 'AWS::AccountId' });
    expect(s.app.node.getContext('aws:cdk:bundling-stacks')).toEqual([]);
  });

  it('refuses unknown context keys, which are usually typos', () => {
    expect(() => synthesize({ modelDataURL: MODEL_DATA_URL })).toThrow('CDK context (--context key=value): unknown key(s) modelDataURL');
  });

  it('composes: 2 buckets, 3 functions, 2 state machines, 1 topic; 3 SageMaker resources with modelDataUrl', () => {
    const external = synthesize({}).template;
    const managed = synthesize({ modelDataUrl: MODEL_DATA_URL }).template;
    for (const [type, count] of Object.entries({ 'AWS::S3::Bucket': 2, 'AWS::Lambda::Function': 3, 'AWS::StepFunctions::StateMachine': 2, 'AWS::SNS::Topic': 1 })) {
      external.resourceCountIs(type, count);
      managed.resourceCountIs(type, count);
    }
    for (const type of ['AWS::SageMaker::Model', 'AWS::SageMaker::EndpointConfig', 'AWS::SageMaker::Endpoint']) {
      external.resourceCountIs(type, 0);
      managed.resourceCountIs(type, 1);
    }
  });
});
