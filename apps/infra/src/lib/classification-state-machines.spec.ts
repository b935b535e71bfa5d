import { buildBatchWorkflowDefinition, buildWorkflowDefinition } from '@scones/workflow';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { synthesize, type Synthesized } from '../../test/synth';

/** What the builder is given in the test, in place of the tokens the stack passes. */
const PLACEHOLDERS = { serialize: 'SERIALIZE_ARN', classify: 'CLASSIFY_ARN', filter: 'FILTER_ARN', topic: 'TOPIC_ARN' };

/**
 * The deployed definition: the template's DefinitionString with each function's `Fn::GetAtt Arn`
 * and the topic's `Ref` replaced by the placeholders (any other token fails the test), parsed.
 */
function deployedDefinition(s: Synthesized, machine: StateMachine): unknown {
  const { serialize, classify, filter } = s.stack.functions;
  const tokens = new Map<string, string>([
    [JSON.stringify({ 'Fn::GetAtt': [s.id(serialize.function), 'Arn'] }), PLACEHOLDERS.serialize],
    [JSON.stringify({ 'Fn::GetAtt': [s.id(classify.function), 'Arn'] }), PLACEHOLDERS.classify],
    [JSON.stringify({ 'Fn::GetAtt': [s.id(filter.function), 'Arn'] }), PLACEHOLDERS.filter],
    [JSON.stringify({ Ref: s.id(s.stack.notifications.topic) }), PLACEHOLDERS.topic],
  ]);
  const definition = s.template.findResources('AWS::StepFunctions::StateMachine')[s.id(machine)].Properties.DefinitionString;
  if (typeof definition === 'string') return JSON.parse(definition);
  const [separator, parts] = definition['Fn::Join'] as [string, unknown[]];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const placeholder = tokens.get(JSON.stringify(part));
      if (!placeholder) throw new Error(`unexpected token in the definition: ${JSON.stringify(part)}`);
      return placeholder;
    })
    .join(separator);
  return JSON.parse(text);
}

const builderInput = {
  functions: { serialize: PLACEHOLDERS.serialize, classify: PLACEHOLDERS.classify, filter: PLACEHOLDERS.filter },
  notifyTopicArn: PLACEHOLDERS.topic,
};

describe('ClassificationStateMachines', () => {
  const s = synthesize({});
  const { single, batch } = s.stack.stateMachines;

  it("deploys exactly the single-image definition @scones/workflow's builder produces", () => {
    expect(deployedDefinition(s, single)).toEqual(buildWorkflowDefinition(builderInput));
  });

  it("deploys exactly the builder's batch definition, with maxConcurrency from context", () => {
    expect(deployedDefinition(s, batch)).toEqual(buildBatchWorkflowDefinition(builderInput));
    const limited = synthesize({ maxConcurrency: '3' });
    const expected = buildBatchWorkflowDefinition({ ...builderInput, maxConcurrency: 3 });
    expect(deployedDefinition(limited, limited.stack.stateMachines.batch)).toEqual(expected);
    expect(expected).not.toEqual(buildBatchWorkflowDefinition(builderInput));
  });

  it('logs every event with its data to a vended log group, and traces with X-Ray', () => {
    for (const [machine, name] of [
      [single, 'classify'],
      [batch, 'classify-batch'],
    ] as const) {
      const props = s.template.findResources('AWS::StepFunctions::StateMachine')[s.id(machine)].Properties;
      expect(props).toMatchObject({
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } }] },
      });
      const logGroupId = props.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
      expect(s.template.findResources('AWS::Logs::LogGroup')[logGroupId]).toMatchObject({
        DeletionPolicy: 'Retain',
        Properties: { LogGroupName: `/aws/vendedlogs/states/SconesStack-${name}`, RetentionInDays: 30 },
      });
    }
  });

  it('grants each role what its definition calls: the three functions and the topic, plus listing data/ (batch)', () => {
    const functionArns = [s.stack.functions.serialize, s.stack.functions.classify, s.stack.functions.filter].map((f) => ({ 'Fn::GetAtt': [s.id(f.function), 'Arn'] }));
    const loggingAndTracing = [
      {
        Action: [
          'logs:CreateLogDelivery',
          'logs:GetLogDelivery',
          'logs:UpdateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
        ],
        Effect: 'Allow',
        Resource: '*',
      },
      { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'], Effect: 'Allow', Resource: '*' },
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: functionArns },
    ];
    const publish = { Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: s.id(s.stack.notifications.topic) } };
    const expected = new Map<StateMachine, unknown[]>([
      [single, [...loggingAndTracing, publish]],
      [
        batch,
        [
          ...loggingAndTracing,
          publish,
          {
            Action: 's3:ListBucket',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [s.id(s.stack.data.bucket), 'Arn'] },
            Condition: { StringLike: { 's3:prefix': 'data/*' } },
          },
        ],
      ],
    ]);
    for (const [machine, statements] of expected) {
      const roleId = s.id(machine.role);
      const policy = Object.values(s.template.findResources('AWS::IAM::Policy')).find((p) => p.Properties.Roles[0].Ref === roleId)!;
      expect(policy.Properties.PolicyDocument.Statement).toEqual(statements);
      const role = s.template.findResources('AWS::IAM::Role')[roleId];
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'states.amazonaws.com' },
          // Confused-deputy protection: only state machines of this account may assume the role.
          Condition: {
            ArnLike: {
              'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':stateMachine:*']] },
            },
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          },
        },
      ]);
    }
  });
});
