import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { MODEL_DATA_URL, synthesize } from '../../test/synth';
import { createSconesApp } from './scones-app';

const BYOC_IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/scones-endpoint:0.1.0';

const CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  'existing endpoint': {},
  'managed endpoint, e-mail, report': { modelDataUrl: MODEL_DATA_URL, notificationEmail: 'ops@example.com', reportSchedule: 'rate(1 day)' },
  'byoc image, auto-delete, concrete env': {
    modelDataUrl: MODEL_DATA_URL,
    modelImage: 'byoc',
    byocImageUri: BYOC_IMAGE,
    autoDeleteData: 'true',
    account: '123456789012',
    region: 'eu-west-1',
  },
};

/** Every acknowledgement in the tree: rule id → reason. */
function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
  );
}

describe('cdk-nag AwsSolutionsChecks', () => {
  for (const [name, context] of Object.entries(CONFIGURATIONS)) {
    it(`reports no unacknowledged finding (${name})`, () => {
      const { app } = synthesize(context);
      const report = new AwsSolutionsChecks().validateScope(app);
      expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
      expect(report.success).toBe(true);
    });
  }

  it('gives a reason for every acknowledgement', () => {
    const { app } = synthesize(CONFIGURATIONS['managed endpoint, e-mail, report']);
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(5);
    for (const ack of acks) expect({ ...ack, reason: ack.reason.length > 40 }).toEqual({ ...ack, reason: true });
  });

  it('still catches a new finding: a bucket without TLS enforcement or logs', () => {
    const { app, stack } = createSconesApp({ context: { 'aws:cdk:bundling-stacks': [] } }, { nag: false });
    new Bucket(stack, 'Careless');
    const rules = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });

  it('runs at synthesis, as `cdk synth` does, and lets the clean stack through (CloudFormation schema validation too)', () => {
    const { app } = createSconesApp({ context: { 'aws:cdk:bundling-stacks': [], modelDataUrl: MODEL_DATA_URL, reportSchedule: 'rate(1 day)' } });
    const assembly = app.synth();
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
  });

  it('stops the synthesis on a finding', () => {
    const { app, stack } = createSconesApp({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    new Bucket(stack, 'Careless');
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });
});
