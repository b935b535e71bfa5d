import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createSconesApp, type SconesApp } from '../src/lib/scones-app';

export interface Synthesized extends SconesApp {
  template: Template;
  /** The CloudFormation logical id of a construct (or of its default child, e.g. a Bucket's CfnBucket). */
  id(construct: IConstruct): string;
}

/**
 * Synthesizes the Scones stack for the given context. Bundling is skipped (CDK's
 * `aws:cdk:bundling-stacks` = none: the functions get a placeholder asset) unless `bundle` is set,
 * which runs esbuild for every function as `cdk synth` does.
 */
export function synthesize(context: Record<string, unknown>, options: { bundle?: boolean; nag?: boolean } = {}): Synthesized {
  // Synthesis is the slow part of these tests: one per context and options in each test file.
  const key = JSON.stringify([context, options]);
  let synthesized = cache.get(key);
  if (!synthesized) cache.set(key, (synthesized = synthesizeOnce(context, options)));
  return synthesized;
}

const cache = new Map<string, Synthesized>();

function synthesizeOnce(context: Record<string, unknown>, { bundle = false, nag = false }: { bundle?: boolean; nag?: boolean }): Synthesized {
  const sconesApp = createSconesApp(
    {
      context: { ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }), ...context },
      // CDK's built-in CloudFormation schema validation (a wasm module) costs seconds per synthesis;
      // scones-app.spec.ts and the slow tests synthesize with it, as `cdk synth` does.
      builtinCloudFormationValidation: false,
    },
    { nag },
  );
  const { stack } = sconesApp;
  return {
    ...sconesApp,
    template: Template.fromStack(stack),
    id: (construct) => stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement),
  };
}

export const MODEL_DATA_URL = 's3://scones-models-123/models/scones-job-1/model.tar.gz';
