// The bundled handler (built with the options of project.json) in a fresh Node process.
import { rm } from 'node:fs/promises';
import { buildLambdaBundle, bytesByPackage, invokeBundledHandler, type Bundle, workspaceScratch } from '../../../tools/lambda-bundles';

const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
const classified = (inferences: number[]) => ({ statusCode: 200, body: { image_data: PNG_B64, s3_bucket: 'scones', s3_key: 'data/test/x.png', inferences } });

describe('filter-lambda bundle', () => {
  let outdir: string;
  let bundle: Bundle;

  beforeAll(async () => {
    outdir = await workspaceScratch('filter-lambda-');
    bundle = await buildLambdaBundle('filter-lambda', { outdir });
  }, 60_000);
  afterAll(() => rm(outdir, { recursive: true, force: true }));

  it('requires nothing outside node builtins, and does not contain the embedded S3 server', () => {
    expect(bundle.runtimeRequires.filter((m) => !m.startsWith('node:'))).toEqual([]);
    expect(Object.keys(bytesByPackage(bundle))).not.toContain('tar-stream');
  });

  it('passes a confident result through and logs the decision with the request id', async () => {
    const run = await invokeBundledHandler(bundle.file, classified([0.95, 0.05]), { env: { THRESHOLD: '0.93' }, requestId: 'req-filter-1' });
    expect(run.error).toBeUndefined();
    expect(run.result).toEqual(classified([0.95, 0.05]));
    expect(run.logs).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'confidence meets threshold', service: 'filter-lambda', function_request_id: 'req-filter-1', confidence: 0.95, threshold: 0.93 }),
    ]);
  });

  it('fails with errorType and errorMessage THRESHOLD_CONFIDENCE_NOT_MET below the threshold', async () => {
    const run = await invokeBundledHandler(bundle.file, classified([0.6, 0.4]), { env: { THRESHOLD: '0.93' } });
    expect(run.error).toEqual({ errorType: 'THRESHOLD_CONFIDENCE_NOT_MET', errorMessage: 'THRESHOLD_CONFIDENCE_NOT_MET' });
  });

  it('fails with a configuration error for an invalid THRESHOLD', async () => {
    const run = await invokeBundledHandler(bundle.file, classified([0.6, 0.4]), { env: { THRESHOLD: '93' } });
    expect(run.error).toEqual({ errorType: 'LambdaConfigurationError', errorMessage: 'THRESHOLD "93" is not a number between 0 and 1' });
  });
});
