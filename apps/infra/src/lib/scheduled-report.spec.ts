import { synthesize } from '../../test/synth';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findWorkspaceRoot } from './workspace';
import { lookbackOf, REPORT_LAMBDA_WASM_FILES } from './scheduled-report';

describe('ScheduledReport', () => {
  it('is not created without reportSchedule', () => {
    const s = synthesize({});
    expect(s.stack.report).toBeUndefined();
    s.template.resourceCountIs('AWS::Events::Rule', 0);
    s.template.resourceCountIs('AWS::Lambda::Function', 3);
  });

  describe('with reportSchedule', () => {
    const s = synthesize({ reportSchedule: 'rate(6 hours)', endpointName: 'scones-prod' });
    const report = s.stack.report!;
    const bucket = s.id(s.stack.data.bucket);
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/${prefix}*`]] });

    it("runs apps/report-generator's handler on the schedule, configured for the bucket and endpoint", () => {
      s.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(6 hours)',
        State: 'ENABLED',
        Targets: [{ Arn: { 'Fn::GetAtt': [s.id(report.function.function), 'Arn'] }, Id: 'Target0', RetryPolicy: { MaximumRetryAttempts: 2 } }],
      });
      s.template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [s.id(report.function.function), 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [s.id(report.rule), 'Arn'] },
      });
      expect(s.template.findResources('AWS::Lambda::Function')[s.id(report.function.function)].Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 1024,
        Timeout: 300,
        Environment: {
          Variables: {
            BUCKET: { Ref: bucket },
            ENDPOINT_NAME: 'scones-prod',
            CAPTURE_PREFIX: 'data_capture',
            MODEL_PREFIX: 'models/',
            REPORT_PREFIX: 'reports/',
            SCHEDULE_NAME: 'scones-report',
            LOOKBACK: '6h',
          },
        },
      });
    });

    it('may list and read data_capture/ and models/, and write only under reports/', () => {
      const policy = Object.values(s.template.findResources('AWS::IAM::Policy')).find((p) => p.Properties.Roles[0].Ref === s.id(report.function.role))!;
      expect(policy.Properties.PolicyDocument.Statement).toEqual([
        { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [s.id(report.function.logGroup), 'Arn'] } },
        {
          Action: 's3:ListBucket',
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [bucket, 'Arn'] },
          Condition: { StringLike: { 's3:prefix': ['data_capture/*', 'models/*'] } },
        },
        { Action: 's3:GetObject', Effect: 'Allow', Resource: [objects('data_capture/'), objects('models/')] },
        { Action: 's3:PutObject', Effect: 'Allow', Resource: objects('reports/') },
      ]);
    });
  });

  it('derives the report window from a rate schedule and leaves cron schedules to the job default', () => {
    expect(lookbackOf('rate(1 day)')).toBe('1d');
    expect(lookbackOf('rate(30 minutes)')).toBe('30m');
    expect(lookbackOf('rate(12 hours)')).toBe('12h');
    expect(lookbackOf('cron(0 6 * * ? *)')).toBeUndefined();
  });

  it('ships the wasm binaries of the model the report embeds images with, from the installed package', () => {
    const root = findWorkspaceRoot();
    expect(REPORT_LAMBDA_WASM_FILES).toContain('node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
    for (const file of REPORT_LAMBDA_WASM_FILES) expect(existsSync(join(root, file))).toBe(true);
  });
});
