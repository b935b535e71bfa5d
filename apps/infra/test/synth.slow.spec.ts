import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { createSconesApp } from '../src/lib/scones-app';
import { findWorkspaceRoot } from '../src/lib/workspace';
import { MODEL_DATA_URL } from './synth';

const root = findWorkspaceRoot();
const scratch = join(root, 'tmp', 'infra-tests');

describe('synthesis with real bundling', () => {
  let outdir: string;
  beforeAll(() => {
    mkdirSync(scratch, { recursive: true });
    // Inside the workspace, so the bundles find the node_modules the Lambda runtime would provide (@aws-sdk/*).
    outdir = mkdtempSync(join(scratch, 'cdk.out-'));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('bundles every handler with local esbuild (no Docker) into a loadable index.js exporting handler', () => {
    const { app, stack } = createSconesApp({ outdir, context: { reportSchedule: 'rate(1 day)', 'aws:cdk:enable-asset-metadata': true } });
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template;
    const functions = [stack.functions.serialize, stack.functions.classify, stack.functions.filter, stack.report!.function];
    for (const fn of functions) {
      const logicalId = stack.getLogicalId((fn.function as LambdaFunction).node.defaultChild as never);
      const assetPath = template.Resources[logicalId].Metadata['aws:asset:path'];
      const bundle = join(outdir, assetPath, 'index.js');
      expect({ fn: fn.node.path, bundled: existsSync(bundle) }).toEqual({ fn: fn.node.path, bundled: true });
      expect(statSync(bundle).size).toBeGreaterThan(1000);
      expect(readFileSync(bundle, 'utf8')).not.toMatch(/^\/\/ node_modules\/@aws-sdk\/client-/m);
      expect(existsSync(join(outdir, assetPath, 'index.js.map'))).toBe(true);
      const loaded = require(bundle) as { handler?: unknown };
      expect(typeof loaded.handler).toBe('function');
    }
  }, 180_000);
});

describe('`nx run infra:synth` (the cdk CLI running src/main.ts)', () => {
  const run = promisify(execFile);
  // No credentials, no region, no network configuration: synth must not need any of them.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && !key.startsWith('CDK_')));
  const cdk = (args: string[], outdir: string) =>
    run('npx', ['cdk', 'synth', '--quiet', '--lookups=false', '--output', outdir, ...args], { cwd: join(root, 'apps/infra'), env, timeout: 180_000 });

  let outdir: string;
  beforeAll(() => {
    mkdirSync(scratch, { recursive: true });
    outdir = mkdtempSync(join(scratch, 'cli.out-'));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('synthesizes offline with no AWS credentials, cdk-nag clean, with and without modelDataUrl', async () => {
    await cdk(['--context', `modelDataUrl=${MODEL_DATA_URL}`], outdir);
    const managed = JSON.parse(readFileSync(join(outdir, 'SconesStack.template.json'), 'utf8'));
    expect(Object.values(managed.Resources).filter((r) => (r as { Type: string }).Type === 'AWS::SageMaker::Endpoint')).toHaveLength(1);

    await cdk([], outdir);
    const external = JSON.parse(readFileSync(join(outdir, 'SconesStack.template.json'), 'utf8'));
    expect(Object.values(external.Resources).filter((r) => (r as { Type: string }).Type === 'AWS::SageMaker::Endpoint')).toHaveLength(0);
  }, 360_000);

  it('fails with one clear line for a bad context parameter', async () => {
    const failure = cdk(['--context', 'threshold=high'], outdir);
    await expect(failure).rejects.toMatchObject({ stderr: expect.stringContaining('infra: CDK context (--context key=value): threshold: "high" is not a number between 0 and 1') });
  }, 180_000);
});
