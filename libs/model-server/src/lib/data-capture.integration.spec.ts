import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, listObjects } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { dataCaptureRecordSchema, parseDataCaptureKey, parseOrThrow, type DataCaptureRecord } from '@scones/payload-schemas';
import { FakePredictor, solidPng } from '../../test/fake-predictor';
import { S3CaptureSink } from './capture-sink';
import { DataCaptureWriter } from './data-capture-writer';
import { ModelServer } from './model-server';

/** Every capture record of an endpoint in the bucket, with the key it was found under. */
async function readCapture(client: S3Client, endpointName: string): Promise<Array<{ key: string; record: DataCaptureRecord }>> {
  const objects = await listObjects(client, 'scones', `data_capture/${endpointName}/`);
  const out: Array<{ key: string; record: DataCaptureRecord }> = [];
  for (const key of objects.keys()) {
    const body = await (await client.send(new GetObjectCommand({ Bucket: 'scones', Key: key }))).Body!.transformToString();
    for (const line of body.trimEnd().split('\n')) out.push({ key, record: parseOrThrow(dataCaptureRecordSchema, JSON.parse(line), key) });
  }
  return out;
}

describe('data capture of a served endpoint (embedded S3)', () => {
  let dir: string;
  let s3: LocalS3;
  let client: S3Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scones-capture-s3-'));
    s3 = await startLocalS3({ directory: dir });
    client = createS3Client(s3.target);
  }, 60_000);
  afterAll(async () => {
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(endpointName: string, flushIntervalMs: number) {
    const capture = new DataCaptureWriter({ endpointName, sink: new S3CaptureSink(client, 'scones'), flushIntervalMs, maxRecordsPerFile: 16 });
    const server = new ModelServer({ endpointName, predictor: new FakePredictor(), capture });
    const url = await server.listen();
    return { server, capture, url };
  }

  it('has exactly one record per served request, with its input and output, none for rejected ones', async () => {
    const { server, url } = await serve('capture-count', 50);
    const images = Array.from({ length: 60 }, (_, i) => solidPng(i * 4));
    const responses = await Promise.all(images.map((img) => fetch(`${url}/endpoints/capture-count/invocations`, { method: 'POST', body: img.png, headers: { 'content-type': 'image/png' } })));
    const answers = await Promise.all(responses.map((r) => r.text()));
    const rejected = await fetch(`${url}/invocations`, { method: 'POST', body: 'junk', headers: { 'content-type': 'image/png' } });
    expect(rejected.status).toBe(400);
    await server.close();

    const records = await readCapture(client, 'capture-count');
    expect(records).toHaveLength(60);
    expect(new Set(records.map((r) => r.record.eventMetadata.eventId)).size).toBe(60);
    const expected = new Map(images.map((img, i) => [img.png.toString('base64'), answers[i]]));
    for (const { key, record } of records) {
      expect(parseDataCaptureKey(key)?.endpointName).toBe('capture-count');
      expect(record.captureData.endpointInput.observedContentType).toBe('image/png');
      expect(record.captureData.endpointOutput.data).toBe(expected.get(record.captureData.endpointInput.data));
      expected.delete(record.captureData.endpointInput.data);
    }
    expect(expected.size).toBe(0);
    expect(server.stats().capture).toMatchObject({ captured: 60, written: 60, pending: 0, failedWrites: 0 });
  }, 60_000);

  it('writes every pending record when stopped before the flush timer fires', async () => {
    const { server, capture, url } = await serve('capture-shutdown', 3_600_000);
    const images = Array.from({ length: 10 }, (_, i) => solidPng(i * 20));
    await Promise.all(images.map((img) => fetch(`${url}/invocations`, { method: 'POST', body: img.png, headers: { 'content-type': 'image/png' } })));
    expect(capture.stats()).toMatchObject({ captured: 10, written: 0, pending: 10 });
    await server.close();
    expect(capture.stats()).toMatchObject({ captured: 10, written: 10, pending: 0 });
    expect(await readCapture(client, 'capture-shutdown')).toHaveLength(10);
  }, 60_000);
});
