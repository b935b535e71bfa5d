// The bundled Lambda handler (built with the options of project.json) in a fresh Node process,
// against the embedded S3 through the standard SDK environment variables.
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createS3Client, localSdkEnvironment } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { buildLambdaBundle, invokeBundledHandler, type Bundle, workspaceScratch, WORKSPACE_ROOT } from '../../../tools/lambda-bundles';
import { ENDPOINT, SCHEDULED, seedBucket } from './fixture';

describe('report-generator Lambda bundle', () => {
  let outdir: string;
  let root: string;
  let bundle: Bundle;
  let s3: LocalS3;

  beforeAll(async () => {
    outdir = await workspaceScratch('report-generator-');
    root = await mkdtemp(join(tmpdir(), 'report-bundle-'));
    s3 = await startLocalS3({ directory: join(root, 's3'), buckets: ['scones'] });
    await seedBucket(createS3Client(s3.target), 'scones');
    bundle = await buildLambdaBundle('report-generator', { outdir });
    await copyAssets(outdir);
  }, 300_000);
  afterAll(async () => {
    await s3?.stop();
    await rm(outdir, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  });

  it('carries TensorFlow.js (the model embeds captured images) with its wasm binaries beside it', async () => {
    const tensorflow = Object.keys(bundle.metafile.inputs).filter((input) => input.includes('node_modules/@tensorflow/'));
    expect(tensorflow.length).toBeGreaterThan(0);
    expect((await readdir(outdir)).filter((f) => f.endsWith('.wasm')).sort()).toEqual(['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm.wasm']);
  });

  it('bundles vega and vega-lite (no top-level await left) and needs only node builtins and the runtime SDK', () => {
    const builtin = (m: string) => m.startsWith('node:') || builtinModules.includes(m);
    // Two requires stay dynamic and are never reached on Lambda: the wasm package's own folder (only
    // without SCONES_TFJS_WASM_DIR, which the handler sets to its folder) and node-fetch's optional
    // `encoding` (in a try/catch).
    const optional = ['@tensorflow/tfjs-backend-wasm/package.json', 'encoding'];
    expect(bundle.runtimeRequires.filter((m) => !builtin(m) && !m.startsWith('@aws-sdk/') && !optional.includes(m))).toEqual([]);
  });

  it('writes the report to the bucket and logs JSON with the request id', async () => {
    const run = await invokeBundledHandler(
      bundle.file,
      { source: 'aws.events', 'detail-type': 'Scheduled Event', time: SCHEDULED.toISOString() },
      { env: { ...localSdkEnvironment(s3.target), BUCKET: 'scones', ENDPOINT_NAME: ENDPOINT, LOOKBACK: '6h' }, requestId: 'req-bundle-1' },
    );
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ report: `s3://scones/reports/${ENDPOINT}/scones-report/2026/03/02/06/report.html`, records: 24, model: 'scones-job-7' });
    // The bundled TensorFlow.js loaded the model from the bucket and embedded the captured images.
    expect((run.result as { outOfDistributionShare: number | null }).outOfDistributionShare).not.toBeNull();
    expect(run.logs).toEqual(
      expect.arrayContaining([expect.objectContaining({ level: 'INFO', message: 'report written', service: 'report-generator', function_request_id: 'req-bundle-1' })]),
    );
  });

  it('fails like the Lambda runtime reports it when BUCKET is missing', async () => {
    const run = await invokeBundledHandler(bundle.file, {}, { env: { ENDPOINT_NAME: ENDPOINT } });
    expect(run.error).toEqual({ errorType: 'ReportJobConfigError', errorMessage: 'BUCKET is not set: expected the S3 bucket holding data_capture/ and models/' });
  });
});

/** Copies what project.json's build `assets` copy next to the bundle (the Lambda asset gets the same files). */
async function copyAssets(outdir: string): Promise<void> {
  const project = JSON.parse(await readFile(join(WORKSPACE_ROOT, 'apps/report-generator/project.json'), 'utf8'));
  for (const asset of project.targets.build.options.assets as Array<{ input: string; glob: string; output: string }>) {
    const pattern = new RegExp(`^${asset.glob.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
    for (const file of await readdir(join(WORKSPACE_ROOT, asset.input))) {
      if (pattern.test(file)) await copyFile(join(WORKSPACE_ROOT, asset.input, file), join(outdir, asset.output, file));
    }
  }
}
