import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { InfraConfigError } from '../errors';
import { readConfig, unknownContextKeys, type SconesConfig } from './config';
import { SconesStack } from './scones-stack';
import { findWorkspaceRoot } from './workspace';

/** CDK feature flags the stack relies on (set here, so tests and `cdk synth` agree without cdk.json). */
const FEATURE_FLAGS = {
  // Grant S3 log delivery through the log bucket's policy instead of a legacy ACL, so the log
  // bucket can disable ACLs (BucketOwnerEnforced) like every other bucket.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
};

export interface SconesApp {
  app: App;
  stack: SconesStack;
  config: SconesConfig;
}

/**
 * The CDK app: the Scones stack configured from context, checked by cdk-nag's AWS Solutions rules
 * at synthesis (any unacknowledged finding stops `cdk synth`/`deploy`).
 */
export interface SconesAppOptions {
  workspaceRoot?: string;
  /** Register cdk-nag's AwsSolutionsChecks as a synthesis validation plugin (default true). */
  nag?: boolean;
}

export function createSconesApp(props: AppProps = {}, { workspaceRoot = findWorkspaceRoot(), nag = true }: SconesAppOptions = {}): SconesApp {
  const app = new App({ ...props, context: { ...FEATURE_FLAGS, ...props.context } });
  const unknown = unknownContextKeys(Object.keys(app.node.getAllContext()));
  if (unknown.length > 0) {
    throw new InfraConfigError(`CDK context (--context key=value): unknown key(s) ${unknown.join(', ')}; see apps/infra/README.md for the parameters`);
  }
  // Relative paths (modelManifest) are relative to the workspace root, wherever cdk runs the app from.
  const config = readConfig((key) => app.node.tryGetContext(key), { cwd: workspaceRoot });
  const stack = new SconesStack(app, config.stackName, { stackName: config.stackName, env: config.env, config, workspaceRoot });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, config };
}
