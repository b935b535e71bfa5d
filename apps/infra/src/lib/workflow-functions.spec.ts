import type { Template } from 'aws-cdk-lib/assertions';
import { MODEL_DATA_URL, synthesize, type Synthesized } from '../../test/synth';
import type { SconesFunction } from './scones-function';

/** The statements of the policy attached to a function's role, exactly. */
function statementsOf(s: Synthesized, fn: SconesFunction): unknown[] {
  const policies = Object.values(s.template.findResources('AWS::IAM::Policy')).filter((p) =>
    p.Properties.Roles.some((r: { Ref: string }) => r.Ref === s.id(fn.role)),
  );
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement;
}

function functionProps(template: Template, logicalId: string) {
  return template.findResources('AWS::Lambda::Function')[logicalId].Properties;
}

describe('WorkflowFunctions', () => {
  describe('with an existing endpoint (no modelDataUrl)', () => {
    const s = synthesize({ endpointName: 'My-Endpoint', threshold: '0.85' });
    const { serialize, classify, filter } = s.stack.functions;
    const writeOwnLogs = (fn: SconesFunction) => ({
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [s.id(fn.logGroup), 'Arn'] },
    });

    it('builds the three handlers for nodejs22.x on arm64 with JSON logs to their own log groups', () => {
      for (const fn of [serialize, classify, filter]) {
        expect(functionProps(s.template, s.id(fn.function))).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          Role: { 'Fn::GetAtt': [s.id(fn.role), 'Arn'] },
          LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: s.id(fn.logGroup) } },
        });
        expect(s.template.findResources('AWS::Logs::LogGroup')[s.id(fn.logGroup)]).toMatchObject({ DeletionPolicy: 'Retain', Properties: { RetentionInDays: 30 } });
      }
    });

    it('sizes each function for its step and sets only the variables it reads', () => {
      const sourceMaps = { NODE_OPTIONS: '--enable-source-maps' };
      expect(functionProps(s.template, s.id(serialize.function))).toMatchObject({ MemorySize: 256, Timeout: 15, Environment: { Variables: sourceMaps } });
      expect(functionProps(s.template, s.id(classify.function))).toMatchObject({
        MemorySize: 256,
        Timeout: 60,
        Environment: { Variables: { ENDPOINT_NAME: 'My-Endpoint', ...sourceMaps } },
      });
      expect(functionProps(s.template, s.id(filter.function))).toMatchObject({
        MemorySize: 128,
        Timeout: 10,
        Environment: { Variables: { THRESHOLD: '0.85', ...sourceMaps } },
      });
    });

    it('lets serialize read objects under data/ and nothing else, and list data/ so a missing key is a 404', () => {
      expect(statementsOf(s, serialize)).toEqual([
        writeOwnLogs(serialize),
        { Action: 's3:GetObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [s.id(s.stack.data.bucket), 'Arn'] }, '/data/*']] } },
        { Action: 's3:ListBucket', Effect: 'Allow', Resource: { 'Fn::GetAtt': [s.id(s.stack.data.bucket), 'Arn'] }, Condition: { StringLike: { 's3:prefix': 'data/*' } } },
      ]);
    });

    it('lets classify invoke only its endpoint (ARN in lower case, as SageMaker keeps it)', () => {
      expect(statementsOf(s, classify)).toEqual([
        writeOwnLogs(classify),
        {
          Action: 'sagemaker:InvokeEndpoint',
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':endpoint/my-endpoint']] },
        },
      ]);
    });

    it('gives filter nothing beyond its logs', () => {
      expect(statementsOf(s, filter)).toEqual([writeOwnLogs(filter)]);
    });

    it('uses no AWS managed policy (AWSLambdaBasicExecutionRole would allow every log group)', () => {
      for (const fn of [serialize, classify, filter]) {
        const role = s.template.findResources('AWS::IAM::Role')[s.id(fn.role)];
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
        expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
        ]);
      }
    });
  });

  describe('with the stack-managed endpoint', () => {
    const s = synthesize({ modelDataUrl: MODEL_DATA_URL, autoDeleteData: 'true', logRetentionDays: '7' });
    const { classify } = s.stack.functions;

    it('points classify at the endpoint this stack creates', () => {
      const endpoint = s.id(s.stack.endpoint!.endpoint);
      expect(functionProps(s.template, s.id(classify.function)).Environment.Variables.ENDPOINT_NAME).toEqual({ 'Fn::GetAtt': [endpoint, 'EndpointName'] });
      expect(statementsOf(s, classify)[1]).toEqual({ Action: 'sagemaker:InvokeEndpoint', Effect: 'Allow', Resource: { Ref: endpoint } });
    });

    it('deletes the log groups with the stack when autoDeleteData=true, with the configured retention', () => {
      expect(s.template.findResources('AWS::Logs::LogGroup')[s.id(classify.logGroup)]).toMatchObject({
        DeletionPolicy: 'Delete',
        Properties: { RetentionInDays: 7 },
      });
    });
  });
});
