import { execFile } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { crc32, deflateSync } from 'node:zlib';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { encode as encodeJpeg } from 'jpeg-js';
import { sageMakerRuntimeClientConfig } from '@scones/local-cloud';
import { deferred, FakePredictor, solidPng } from '../../test/fake-predictor';
import { waitFor } from '../../test/virtual-clock';
import { ModelServerConfigError } from '../errors';
import { createJsonLogger } from '@scones/stack-core';
import { ModelServer } from './model-server';
import { boto3Python } from '../../../../tools/boto3-python';

const run = promisify(execFile);

const red = solidPng(200);
const dark = solidPng(10);

/** The 68-byte PNG of issue 17: its IHDR claims 20000x20000 RGB pixels, its IDAT is 10 deflated zero bytes. */
function pngBomb(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20000, 0);
  ihdr.writeUInt32BE(20000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(10))), chunk('IEND', Buffer.alloc(0))]);
}

/** A JSON answer body: the container contract's error shape, or the probabilities. */
type Answer = { code: number; type: string; message: string } & number[];
const json = async (response: Response): Promise<Answer> => (await response.json()) as Answer;

/** POST over a given keep-alive agent; resolves with the status and body. */
function post(agent: Agent, url: string, body: Buffer, headers: Record<string, string> = { 'content-type': 'image/png' }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The SDK client `scones` uses, without retries so each test sees the first answer. */
function sdkClient(url: string): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({ ...sageMakerRuntimeClientConfig({ kind: 'local', s3Endpoint: 'http://127.0.0.1:1', sagemakerRuntimeEndpoint: url }), maxAttempts: 1 });
}

describe('ModelServer', () => {
  let model: FakePredictor;
  let server: ModelServer;
  let url: string;
  let logs: Array<Record<string, unknown>>;

  async function start(options: Partial<ConstructorParameters<typeof ModelServer>[0]> = {}): Promise<void> {
    model = new FakePredictor();
    logs = [];
    server = new ModelServer({
      endpointName: 'scones-test',
      predictor: model,
      logger: createJsonLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) }),
      ...options,
    });
    url = await server.listen();
  }

  afterEach(async () => {
    await server?.close();
  });

  const invoke = (body: Uint8Array | string, contentType?: string, path = '/invocations') =>
    fetch(`${url}${path}`, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {} });

  describe('container contract', () => {
    it('answers /ping 503 until the model is set, then 200 while the model is healthy', async () => {
      await start({ predictor: undefined });
      expect((await fetch(`${url}/ping`)).status).toBe(503);
      const early = await invoke(red.png, 'image/png');
      expect(early.status).toBe(503);
      expect(await early.json()).toEqual({ code: 503, type: 'ServiceUnavailable', message: 'the model is still loading; retry shortly' });
      const model = Object.assign(new FakePredictor(), { healthy: true });
      server.setPredictor(model);
      expect((await fetch(`${url}/ping`)).status).toBe(200);
      expect(() => server.setPredictor(new FakePredictor())).toThrow(ModelServerConfigError);
      // A model that cannot predict now (its workers died) makes the container unhealthy.
      model.healthy = false;
      expect((await fetch(`${url}/ping`)).status).toBe(503);
    });

    it('classifies a PNG: JSON probabilities in class order and the production-variant header', async () => {
      await start();
      const response = await invoke(red.png, 'image/png');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(response.headers.get('x-amzn-invoked-production-variant')).toBe('AllTraffic');
      expect(await response.json()).toEqual(FakePredictor.expected(red.image));
    });

    it('accepts image/jpeg and application/x-image (format sniffed from the bytes)', async () => {
      await start();
      const jpeg = encodeJpeg({ width: 8, height: 8, data: Buffer.alloc(8 * 8 * 4, 200) }, 95).data;
      const asJpeg = await invoke(jpeg, 'image/jpeg');
      expect(asJpeg.status).toBe(200);
      expect((await json(asJpeg))[1]).toBeCloseTo(200 / 255, 1);
      const asXImage = await invoke(dark.png, 'application/x-image; charset=binary');
      expect(await asXImage.json()).toEqual(FakePredictor.expected(dark.image));
    });

    it('refuses other content types with 415 naming the accepted ones', async () => {
      await start();
      for (const type of ['text/plain', undefined]) {
        const response = await invoke(red.png, type);
        expect(response.status).toBe(415);
        const body = await json(response);
        expect(body.type).toBe('UnsupportedMediaType');
        expect(body.message).toContain('send image/png, image/jpeg, application/x-image');
      }
      expect(model.batches).toEqual([]);
    });

    it('answers 400 with the decoder message for an undecodable image', async () => {
      await start();
      const truncated = red.png.subarray(0, 40);
      const response = await invoke(truncated, 'image/png');
      expect(response.status).toBe(400);
      const body = await json(response);
      expect(body.type).toBe('ImageDecodeError');
      expect(body.message).toMatch(/^ImageDecodeError: cannot decode PNG/);
      const text = await invoke('hello', 'image/png');
      expect((await json(text)).message).toBe('ImageDecodeError: not a PNG or JPEG image (5 bytes, starts with 68656c6c)');
    });

    it('answers 413 for a body over the limit (declared or chunked) and keeps serving', async () => {
      await start({ maxBodyBytes: 1000 });
      const big = Buffer.alloc(5000, 1);
      const declared = await invoke(big, 'image/png');
      expect(declared.status).toBe(413);
      expect((await json(declared)).message).toBe('request body of 5000 bytes or more exceeds the 1000-byte limit');
      const chunked = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${url}/invocations`, { method: 'POST', headers: { 'content-type': 'image/png', 'transfer-encoding': 'chunked' } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode, body }));
        });
        req.on('error', reject);
        for (let i = 0; i < 10; i++) req.write(Buffer.alloc(600, 2));
        req.end();
      });
      expect(chunked.status).toBe(413);
      expect((await invoke(red.png.subarray(0, 1000), 'image/png')).status).not.toBe(413);
      expect((await invoke(red.png, 'image/png')).status).toBe(200);
    });

    it('answers 404 for unknown paths and 405 for wrong methods', async () => {
      await start();
      expect((await fetch(`${url}/nothing`)).status).toBe(404);
      expect((await fetch(`${url}/invocations`)).status).toBe(405);
      expect((await fetch(`${url}/ping`, { method: 'POST' })).status).toBe(405);
    });

    it('answers 429 beyond the queue limit, and serves again afterwards', async () => {
      await start({ batching: { maxQueue: 2 } });
      const gate = deferred();
      model.gate = gate.promise;
      const accepted = [invoke(red.png, 'image/png'), invoke(dark.png, 'image/png')];
      await waitFor('2 queued images', () => server.stats().batching!.queued === 2);
      const refused = await invoke(red.png, 'image/png');
      expect(refused.status).toBe(429);
      expect((await json(refused)).type).toBe('TooManyRequests');
      model.gate = undefined;
      gate.resolve();
      expect((await Promise.all(accepted)).map((r) => r.status)).toEqual([200, 200]);
      expect((await invoke(red.png, 'image/png')).status).toBe(200);
    });

    it('answers 500 when the model fails, and keeps running', async () => {
      await start();
      model.failWith = new Error('tensor shape mismatch');
      const response = await invoke(red.png, 'image/png');
      expect(response.status).toBe(500);
      expect((await json(response)).message).toBe('the model failed on a batch of 1: tensor shape mismatch');
      model.failWith = undefined;
      expect((await invoke(red.png, 'image/png')).status).toBe(200);
    });

    it('times out a request whose body never finishes arriving', async () => {
      await start({ requestTimeoutMs: 200 });
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(server.port, '127.0.0.1', () => {
          socket.write('POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100\r\n\r\npartial');
        });
        let text = '';
        socket.on('data', (d) => (text += d));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect((await invoke(red.png, 'image/png')).status).toBe(200);
    });

    it('batches concurrent requests into fewer model calls; each gets its own answer; a bad image fails alone', async () => {
      await start();
      // Hold the first model call until every request has arrived, as a busy model would.
      const gate = deferred();
      model.gate = gate.promise;
      const images = Array.from({ length: 24 }, (_, i) => solidPng(i * 10));
      const pending = Promise.all([...images.map((img) => invoke(img.png, 'image/png')), invoke('not an image', 'image/png')]);
      await waitFor('24 queued images', () => server.stats().batching!.queued === 24);
      model.gate = undefined;
      gate.resolve();
      const responses = await pending;
      const bodies = await Promise.all(responses.map((r) => r.json()));
      images.forEach((img, i) => {
        expect(responses[i].status).toBe(200);
        expect(bodies[i]).toEqual(FakePredictor.expected(img.image));
      });
      expect(responses[24].status).toBe(400);
      expect(model.batches.reduce((a, b) => a + b, 0)).toBe(24);
      expect(model.batches.length).toBeLessThanOrEqual(3);
    });

    it('logs one JSON line per request: debug when served, warn when rejected', async () => {
      await start();
      await invoke(red.png, 'image/png');
      await invoke(red.png, 'text/csv');
      const requests = logs.filter((l) => l.message !== 'model server listening');
      expect(requests).toEqual([
        expect.objectContaining({ level: 'debug', message: 'request', method: 'POST', path: '/invocations', status: 200, bytes: red.png.length, time: expect.any(String) }),
        expect.objectContaining({ level: 'warn', message: 'request rejected', status: 415, error: expect.stringContaining('text/csv') }),
      ]);
    });

    it('refuses an invalid endpoint name', () => {
      expect(() => new ModelServer({ endpointName: '../etc' })).toThrow(ModelServerConfigError);
    });
  });

  describe('hostile input and load', () => {
    it('refuses a PNG whose header claims 20000x20000 pixels without decoding it, while /ping and other requests are served (issue 17.1)', async () => {
      await start();
      const bomb = pngBomb();
      expect(bomb.length).toBe(68);
      const before = process.memoryUsage().arrayBuffers;
      const [refused, ping, served, viaSdk] = await Promise.all([
        invoke(bomb, 'image/png'),
        fetch(`${url}/ping`),
        invoke(red.png, 'image/png'),
        sdkClient(url)
          .send(new InvokeEndpointCommand({ EndpointName: 'scones-test', ContentType: 'image/png', Body: bomb }))
          .catch((e: unknown) => e),
      ]);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toEqual({ code: 400, type: 'ImageDecodeError', message: 'ImageDecodeError: PNG too large: its header declares 20000x20000 pixels, the limit is 4096x4096' });
      expect(viaSdk).toMatchObject({ name: 'ModelError', OriginalStatusCode: 400, $metadata: { httpStatusCode: 424 } });
      expect(ping.status).toBe(200);
      expect(served.status).toBe(200);
      // Nothing the size of the claimed image (1.2 GB of pixels) was allocated.
      expect((process.memoryUsage().arrayBuffers - before) / 2 ** 20).toBeLessThan(50);
      expect(model.batches.reduce((a, b) => a + b, 0)).toBe(1);
    });

    it('holds 200 connections: reads every request while the model is busy, answers /ping, serves them first come first served (issue 17.8)', async () => {
      await start({ batching: { maxBatchSize: 32, maxQueue: 256 } });
      const agent = new Agent({ keepAlive: true, maxSockets: 200 });
      try {
        // Each batch waits until the test releases it, as a busy model would.
        const releases: Array<() => void> = [];
        model.predictImages = async function (images) {
          this.batches.push(images.length);
          this.seen.push(...images);
          await new Promise<void>((resolve) => releases.push(resolve));
          return images.map((image) => FakePredictor.expected(image));
        };
        // 200 distinct images, sent one after another so their arrival order is known.
        const images = Array.from({ length: 200 }, (_, i) => solidPng(i));
        const answers: Array<Promise<{ status: number; body: string }>> = [];
        for (const [i, image] of images.entries()) {
          answers.push(post(agent, `${url}/invocations`, image.png));
          await waitFor(`request ${i} to be queued`, () => server.stats().batching!.queued === i + 1);
        }
        expect(server.stats().inFlight).toBe(200);
        // The model has not answered anything yet: /ping is served anyway, on its own connection.
        const ping = await fetch(`${url}/ping`);
        expect(ping.status).toBe(200);
        expect(releases).toHaveLength(1);
        // Release one batch at a time: each takes the oldest waiting images, full batches of 32.
        let released = 0;
        while (released < model.batches.length || server.stats().batching!.queued > 0) {
          await waitFor('the next model call', () => releases.length > released);
          releases[released++]();
          expect((await fetch(`${url}/ping`)).status).toBe(200);
        }
        const responses = await Promise.all(answers);
        responses.forEach((r, i) => {
          expect(r.status).toBe(200);
          expect(JSON.parse(r.body)).toEqual(FakePredictor.expected(images[i].image));
        });
        expect(model.seen).toEqual(images.map((i) => i.image));
        expect(model.batches).toEqual([1, 32, 32, 32, 32, 32, 32, 7]);
      } finally {
        agent.destroy();
      }
    }, 60_000);
  });

  describe('SageMaker Runtime API', () => {
    it('serves InvokeEndpointCommand of @aws-sdk/client-sagemaker-runtime unchanged', async () => {
      await start();
      const answer = await sdkClient(url).send(new InvokeEndpointCommand({ EndpointName: 'scones-test', ContentType: 'image/png', Body: red.png }));
      expect(JSON.parse(Buffer.from(answer.Body!).toString())).toEqual(FakePredictor.expected(red.image));
      expect(answer.ContentType).toBe('application/json');
      expect(answer.InvokedProductionVariant).toBe('AllTraffic');
    });

    it('answers an unknown endpoint with the ValidationError AWS returns', async () => {
      await start();
      const error = await sdkClient(url)
        .send(new InvokeEndpointCommand({ EndpointName: 'no-such-endpoint', ContentType: 'image/png', Body: red.png }))
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        name: 'ValidationError',
        message: 'Endpoint no-such-endpoint of account 000000000000 not found.',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('reports container rejections as ModelError with the original status and message', async () => {
      await start();
      const error = await sdkClient(url)
        .send(new InvokeEndpointCommand({ EndpointName: 'scones-test', ContentType: 'image/png', Body: Buffer.from('nope') }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({
        name: 'ModelError',
        OriginalStatusCode: 400,
        OriginalMessage: 'ImageDecodeError: not a PNG or JPEG image (4 bytes, starts with 6e6f7065)',
        $metadata: { httpStatusCode: 424 },
      });
      expect((error as Error).message).toMatch(/^Received client error \(400\) from primary with message "ImageDecodeError: /);
      const wrongType = await sdkClient(url)
        .send(new InvokeEndpointCommand({ EndpointName: 'scones-test', ContentType: 'text/csv', Body: red.png }))
        .catch((e: unknown) => e);
      expect(wrongType).toMatchObject({ name: 'ModelError', OriginalStatusCode: 415 });
    });

    it('reports a full queue as ThrottlingException (which the SDK retries) and loading as ServiceUnavailable', async () => {
      await start({ batching: { maxQueue: 1 } });
      const gate = deferred();
      model.gate = gate.promise;
      const first = sdkClient(url).send(new InvokeEndpointCommand({ EndpointName: 'scones-test', ContentType: 'image/png', Body: red.png }));
      await waitFor('1 queued image', () => server.stats().batching!.queued === 1);
      const throttled = await sdkClient(url)
        .send(new InvokeEndpointCommand({ EndpointName: 'scones-test', ContentType: 'image/png', Body: red.png }))
        .catch((e: unknown) => e);
      expect(throttled).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
      model.gate = undefined;
      gate.resolve();
      await first;
      await server.close();

      server = new ModelServer({ endpointName: 'scones-test' });
      url = await server.listen();
      const loading = await sdkClient(url)
        .send(new InvokeEndpointCommand({ EndpointName: 'scones-test', ContentType: 'image/png', Body: red.png }))
        .catch((e: unknown) => e);
      expect(loading).toMatchObject({ name: 'ServiceUnavailable', $fault: 'server', $metadata: { httpStatusCode: 503 } });
    });

    it('reports an oversize body as 413 ValidationError', async () => {
      await start({ maxBodyBytes: 100 });
      const error = await sdkClient(url)
        .send(new InvokeEndpointCommand({ EndpointName: 'scones-test', ContentType: 'image/png', Body: red.png }))
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'ValidationError', $metadata: { httpStatusCode: 413 } });
      expect((error as Error).message).toContain('exceeds the 100-byte limit');
    });

    it("serves boto3's invoke_endpoint, and raises its ValidationError for an unknown endpoint", async () => {
      const python = await boto3Python();
      if (!python) throw new Error('boto3 is needed for this test: apt-get install python3-boto3 (tools/ci/install-system-deps.sh)');
      await start();
      const script = `
import base64, json, sys, boto3
client = boto3.client('sagemaker-runtime', endpoint_url=sys.argv[1], region_name='us-east-1',
                      aws_access_key_id='S3RVER', aws_secret_access_key='S3RVER')
body = base64.b64decode(sys.argv[2])
answer = client.invoke_endpoint(EndpointName='scones-test', ContentType='image/png', Body=body)
out = {'probabilities': json.loads(answer['Body'].read()), 'variant': answer['InvokedProductionVariant']}
try:
    client.invoke_endpoint(EndpointName='missing', ContentType='image/png', Body=body)
except client.exceptions.ValidationError as e:
    out['error'] = [e.response['Error']['Code'], e.response['Error']['Message'], e.response['ResponseMetadata']['HTTPStatusCode']]
try:
    client.invoke_endpoint(EndpointName='scones-test', ContentType='image/png', Body=b'nope')
except client.exceptions.ModelError as e:
    out['modelError'] = [e.response['Error']['Code'], e.response.get('OriginalStatusCode')]
print(json.dumps(out))
`;
      const { stdout } = await run(python, ['-c', script, url, red.png.toString('base64')], { timeout: 30_000 });
      expect(JSON.parse(stdout)).toEqual({
        probabilities: FakePredictor.expected(red.image),
        variant: 'AllTraffic',
        error: ['ValidationError', 'Endpoint missing of account 000000000000 not found.', 400],
        modelError: ['ModelError', 400],
      });
    }, 60_000);
  });

  describe('graceful shutdown', () => {
    it('finishes requests in progress, refuses new connections, and closes once', async () => {
      await start();
      const gate = deferred();
      model.gate = gate.promise;
      const inProgress = invoke(red.png, 'image/png');
      await waitFor('1 queued image', () => server.stats().batching!.queued === 1);
      const closed = server.close();
      expect(server.ready).toBe(false);
      // The listening socket closes at once; wait for that instead of sleeping a guessed time.
      await waitFor('the server to refuse new connections', () =>
        fetch(`${url}/ping`).then(
          () => false,
          () => true,
        ),
      );
      model.gate = undefined;
      gate.resolve();
      const response = await inProgress;
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(FakePredictor.expected(red.image));
      await closed;
      await expect(server.close()).resolves.toBeUndefined();
      expect(server.stats().responses).toEqual({ '200': 1 });
    });
  });
});
