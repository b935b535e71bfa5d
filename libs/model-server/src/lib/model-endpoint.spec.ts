import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deferred, FakePredictor, solidPng } from '../../test/fake-predictor';
import { DirectoryCaptureSink } from './capture-sink';
import { servingThreads, startModelEndpoint } from './model-endpoint';

describe('startModelEndpoint', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scones-endpoint-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('listens at once, answers /ping 503 while the model loads, then serves and captures', async () => {
    const loaded = deferred();
    let disposed = 0;
    const endpoint = await startModelEndpoint({
      endpointName: 'ep',
      loadPredictor: async () => {
        await loaded.promise;
        return Object.assign(new FakePredictor(), { dispose: () => void disposed++ });
      },
      capture: { sink: new DirectoryCaptureSink(dir) },
    });
    expect(endpoint.captureDestination).toBe(join(dir, 'data_capture'));
    expect((await fetch(`${endpoint.url}/ping`)).status).toBe(503);
    loaded.resolve();
    await endpoint.ready;
    expect((await fetch(`${endpoint.url}/ping`)).status).toBe(200);
    const answer = await fetch(`${endpoint.url}/endpoints/ep/invocations`, { method: 'POST', body: solidPng(9).png, headers: { 'content-type': 'image/png' } });
    expect(answer.status).toBe(200);
    await endpoint.close();
    expect(disposed).toBe(1);
    expect((await readdir(join(dir, 'data_capture', 'ep', 'AllTraffic'), { recursive: true })).filter((f) => f.endsWith('.jsonl'))).toHaveLength(1);
  });

  it('rejects ready when the model cannot be loaded, and still closes', async () => {
    const endpoint = await startModelEndpoint({ endpointName: 'ep', loadPredictor: async () => Promise.reject(new Error('manifest.json: not found')) });
    await expect(endpoint.ready).rejects.toThrow('manifest.json: not found');
    expect((await fetch(`${endpoint.url}/ping`)).status).toBe(503);
    await expect(endpoint.close()).resolves.toBeUndefined();
  });
});

describe('servingThreads', () => {
  it('turns wasm threads off for serving unless SCONES_TFJS_THREADS decides', () => {
    expect(servingThreads({})).toBe(false);
    expect(servingThreads({ SCONES_TFJS_THREADS: '1' })).toBeUndefined();
    expect(servingThreads({ SCONES_TFJS_THREADS: '0' })).toBeUndefined();
  });
});
