// The bundled Lambda handler (built with the options of project.json) in a fresh Node process,
// against the embedded S3 through the standard SDK environment variables.
import { mkdtemp, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createS3Client, localSdkEnvironment, startLocalS3, type LocalS3 } from '@scones/local-cloud';
import { buildLambdaBundle, invokeBundledHandler, type Bundle, workspaceScratch } from '../../../tools/lambda-bundles';
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
  }, 120_000);
  afterAll(async () => {
    await s3?.stop();
    await rm(outdir, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  });

  it('does not carry TensorFlow.js: the report only decodes images (needs image-classifier to be side-effect free)', () => {
    const tensorflow = Object.keys(bundle.metafile.inputs).filter((input) => input.includes('node_modules/@tensorflow/'));
    expect({ tensorflowModules: tensorflow.length }).toEqual({ tensorflowModules: 0 });
  });

  it('bundles vega and vega-lite (no top-level await left) and needs only node builtins and the runtime SDK', () => {
    const builtin = (m: string) => m.startsWith('node:') || builtinModules.includes(m);
    expect(bundle.runtimeRequires.filter((m) => !builtin(m) && !m.startsWith('@aws-sdk/'))).toEqual([]);
  });

  it('writes the report to the bucket and logs JSON with the request id', async () => {
    const run = await invokeBundledHandler(
      bundle.file,
      { source: 'aws.events', 'detail-type': 'Scheduled Event', time: SCHEDULED.toISOString() },
      { env: { ...localSdkEnvironment(s3.target), BUCKET: 'scones', ENDPOINT_NAME: ENDPOINT, LOOKBACK: '6h' }, requestId: 'req-bundle-1' },
    );
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ report: `s3://scones/reports/${ENDPOINT}/2026-03-02T06-00-00Z/report.html`, records: 24, model: 'scones-job-7' });
    expect(run.logs).toEqual(
      expect.arrayContaining([expect.objectContaining({ level: 'INFO', message: 'report written', service: 'report-generator', function_request_id: 'req-bundle-1' })]),
    );
  }, 60_000);

  it('fails like the Lambda runtime reports it when BUCKET is missing', async () => {
    const run = await invokeBundledHandler(bundle.file, {}, { env: { ENDPOINT_NAME: ENDPOINT } });
    expect(run.error).toEqual({ errorType: 'ReportJobConfigError', errorMessage: 'BUCKET is not set: expected the S3 bucket holding data_capture/ and models/' });
  }, 60_000);
});
