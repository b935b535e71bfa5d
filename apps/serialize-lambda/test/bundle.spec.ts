// The bundled handler (built with the options of project.json) in a fresh Node process, against
// the embedded S3 over HTTP, configured only through the standard SDK environment variables.
import { mkdtemp, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client, localSdkEnvironment } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { buildLambdaBundle, bytesByPackage, invokeBundledHandler, type Bundle, workspaceScratch } from '../../../tools/lambda-bundles';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');

describe('serialize-lambda bundle', () => {
  let outdir: string;
  let bundle: Bundle;
  let s3: LocalS3;
  let s3Dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    outdir = await workspaceScratch('serialize-lambda-');
    s3Dir = await mkdtemp(join(tmpdir(), 'scones-serialize-'));
    [bundle, s3] = await Promise.all([buildLambdaBundle('serialize-lambda', { outdir }), startLocalS3({ directory: s3Dir })]);
    env = localSdkEnvironment(s3.target);
    await createS3Client(s3.target).send(new PutObjectCommand({ Bucket: 'scones', Key: 'data/test/bicycle_s_000513.png', Body: PNG }));
  }, 60_000);
  afterAll(async () => {
    await s3?.stop();
    await rm(outdir, { recursive: true, force: true });
    await rm(s3Dir, { recursive: true, force: true });
  });

  it('requires nothing at run time but node builtins and the S3 client of the nodejs22.x runtime', () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    expect(bundle.runtimeRequires.filter((m) => !builtins.has(m))).toEqual(['@aws-sdk/client-s3']);
    // @scones/local-cloud is imported for its client configuration only; none of its other code or the SDK comes along.
    expect(Object.keys(bytesByPackage(bundle)).filter((p) => p === 'fflate' || p.startsWith('@aws-sdk/'))).toEqual([]);
  });

  it('serializes an image from the embedded S3 and logs JSON lines with the request id', async () => {
    const event = { image_data: '', s3_bucket: 'scones', s3_key: 'data/test/bicycle_s_000513.png' };
    const run = await invokeBundledHandler(bundle.file, event, { env, requestId: 'req-serialize-1' });
    expect(run.error).toBeUndefined();
    expect(run.result).toEqual({
      statusCode: 200,
      body: { image_data: PNG.toString('base64'), s3_bucket: 'scones', s3_key: 'data/test/bicycle_s_000513.png', inferences: [] },
    });
    expect(run.logs).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'serialized image',
        service: 'serialize-lambda',
        function_request_id: 'req-serialize-1',
        s3_key: 'data/test/bicycle_s_000513.png',
        bytes: PNG.length,
      }),
    ]);
  });

  it('addresses the bucket path-style when the endpoint is a host name', async () => {
    const byName = { ...env, AWS_ENDPOINT_URL_S3: s3.endpoint.replace('127.0.0.1', 'localhost') };
    const run = await invokeBundledHandler(bundle.file, { s3_bucket: 'scones', s3_key: 'data/test/bicycle_s_000513.png' }, { env: byName });
    expect(run.error).toBeUndefined();
    expect((run.result as { body: { image_data: string } }).body.image_data).toBe(PNG.toString('base64'));
  });

  it('fails with ImageNotFound naming bucket and key for a missing object', async () => {
    const run = await invokeBundledHandler(bundle.file, { s3_bucket: 'scones', s3_key: 'data/test/nope.png' }, { env });
    expect(run.error).toEqual({
      errorType: 'ImageNotFound',
      errorMessage: 's3://scones/data/test/nope.png: no object with key "data/test/nope.png" in bucket "scones" (S3: NoSuchKey)',
    });
    expect(run.logs).toEqual([expect.objectContaining({ level: 'WARN', message: 'image not found', s3_error: 'NoSuchKey' })]);
  });

  it('fails with PayloadValidationError for an event without s3_key', async () => {
    const run = await invokeBundledHandler(bundle.file, { s3_bucket: 'scones' }, { env });
    expect(run.error).toEqual({ errorType: 'PayloadValidationError', errorMessage: 'serialize event: s3_key: is required (expected a non-empty string)' });
  });
});
