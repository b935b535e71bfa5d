// The bundled handler (built with the options of project.json) in a fresh Node process, calling the
// project's model server (SageMaker Runtime API over HTTP, fake predictors) through InvokeEndpoint,
// configured only through the standard SDK environment variables.
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createModelServer, type ModelServer, type Predictor } from '@scones/model-server';
import { buildLambdaBundle, invokeBundledHandler, type Bundle, workspaceScratch } from '../../../tools/lambda-bundles';

const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
const EVENT = { statusCode: 200, body: { image_data: PNG_B64, s3_bucket: 'scones', s3_key: 'data/test/bicycle_s_000513.png', inferences: [] } };

/** A predictor answering the same thing for every image, and recording the images it saw. */
function fixedPredictor(answer: unknown): Predictor & { seen: { width: number; height: number }[] } {
  const seen: { width: number; height: number }[] = [];
  return {
    classNames: ['bicycle', 'motorcycle'],
    seen,
    async predictImages(images) {
      seen.push(...images.map(({ width, height }) => ({ width, height })));
      // A broken model may answer anything; the server passes it on as JSON.
      return images.map(() => answer as number[]);
    },
  };
}

describe('classify-lambda bundle', () => {
  let outdir: string;
  let bundle: Bundle;
  const scones = fixedPredictor([0.9, 0.1]);
  const predictors: Record<string, Predictor | undefined> = {
    scones,
    broken: fixedPredictor({ error: 'model not loaded' }),
    overconfident: fixedPredictor([1.5, -0.5]),
    loading: undefined, // no model yet: the endpoint answers ServiceUnavailable
  };
  const servers = new Map<string, { server: ModelServer; url: string }>();
  const env = (endpointUrl: string, endpointName?: string): Record<string, string> => ({
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: endpointUrl,
    ...(endpointName === undefined ? {} : { ENDPOINT_NAME: endpointName }),
  });
  const endpointEnv = (name: string) => env(servers.get(name)!.url, name);

  beforeAll(async () => {
    outdir = await workspaceScratch('classify-lambda-');
    const starting = Object.entries(predictors).map(async ([endpointName, predictor]) => {
      const server = createModelServer({ endpointName, predictor });
      servers.set(endpointName, { server, url: await server.listen() });
    });
    [bundle] = await Promise.all([buildLambdaBundle('classify-lambda', { outdir }), ...starting]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([...servers.values()].map(({ server }) => server.close()));
    await rm(outdir, { recursive: true, force: true });
  });

  it('requires only the SageMaker Runtime client of the AWS SDK', () => {
    expect(bundle.runtimeRequires.filter((m) => !m.startsWith('node:'))).toEqual(['@aws-sdk/client-sagemaker-runtime']);
  });

  it('invokes the endpoint with the PNG and returns its probabilities, logging JSON with the request id', async () => {
    const run = await invokeBundledHandler(bundle.file, EVENT, { env: endpointEnv('scones'), requestId: 'req-classify-1' });
    expect(run.error).toBeUndefined();
    expect(run.result).toEqual({ statusCode: 200, body: { ...EVENT.body, inferences: [0.9, 0.1] } });
    // The server decoded the image it was sent: the 1x1 PNG of the event.
    expect(scones.seen).toEqual([{ width: 1, height: 1 }]);
    expect(servers.get('scones')!.server.stats().responses).toEqual({ 200: 1 });
    expect(run.logs).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'classified image', service: 'classify-lambda', function_request_id: 'req-classify-1', endpoint: 'scones', inferences: [0.9, 0.1] }),
    ]);
  });

  it('fails with EndpointResponseInvalid when the endpoint answers probabilities outside [0, 1]', async () => {
    const run = await invokeBundledHandler(bundle.file, EVENT, { env: endpointEnv('overconfident') });
    expect(run.error).toEqual({
      errorType: 'EndpointResponseInvalid',
      errorMessage: 'endpoint "overconfident" answer: [0]: expected a probability <= 1; [1]: expected a probability >= 0 (the endpoint answered: [1.5,-0.5])',
    });
  });

  it('fails with EndpointResponseInvalid when the model fails (ModelError)', async () => {
    const run = await invokeBundledHandler(bundle.file, EVENT, { env: endpointEnv('broken') });
    expect(run.error).toMatchObject({ errorType: 'EndpointResponseInvalid', errorMessage: expect.stringMatching(/^endpoint "broken" rejected the request: ModelError: Received server error \(500\)/) });
  });

  it('fails with EndpointResponseInvalid naming an endpoint that does not exist', async () => {
    const run = await invokeBundledHandler(bundle.file, EVENT, { env: env(servers.get('scones')!.url, 'missing') });
    expect(run.error).toEqual({ errorType: 'EndpointResponseInvalid', errorMessage: expect.stringMatching(/^endpoint "missing" rejected the request: ValidationError: Endpoint missing of account \d+ not found\.$/) });
  });

  it('fails with EndpointResponseInvalid when the model cannot decode the image', async () => {
    const notPng = { ...EVENT, body: { ...EVENT.body, image_data: Buffer.from('not an image').toString('base64') } };
    const run = await invokeBundledHandler(bundle.file, notPng, { env: endpointEnv('scones') });
    expect(run.error).toMatchObject({ errorType: 'EndpointResponseInvalid', errorMessage: expect.stringContaining('endpoint "scones" rejected the request: ModelError') });
  });

  it('lets ServiceUnavailable (the model is still loading) propagate for the Retry', async () => {
    const run = await invokeBundledHandler(bundle.file, EVENT, { env: endpointEnv('loading') });
    expect(run.error).toMatchObject({ errorType: 'ServiceUnavailable' });
  });

  it('fails with ECONNREFUSED (a transient error the Retry matches) when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const run = await invokeBundledHandler(bundle.file, EVENT, { env: env(url, 'scones') });
    expect(run.error).toMatchObject({ errorType: 'ECONNREFUSED', errorMessage: expect.stringContaining('ECONNREFUSED') });
  });

  it('fails with LambdaConfigurationError when ENDPOINT_NAME is not set', async () => {
    const run = await invokeBundledHandler(bundle.file, EVENT, { env: env(servers.get('scones')!.url) });
    expect(run.error).toMatchObject({ errorType: 'LambdaConfigurationError', errorMessage: expect.stringMatching(/^ENDPOINT_NAME is not set/) });
  });

  it('fails with PayloadValidationError for non-base64 image data', async () => {
    const run = await invokeBundledHandler(bundle.file, { ...EVENT, body: { ...EVENT.body, image_data: 'not base64!' } }, { env: endpointEnv('scones') });
    expect(run.error).toMatchObject({ errorType: 'PayloadValidationError', errorMessage: expect.stringContaining('classify event: body.image_data: expected base64 data') });
  });
});
