import { deferred, FakePredictor, solidPng } from '../../test/fake-predictor';
import { settle, VirtualClock } from '../../test/virtual-clock';
import { ImageDecodeError } from '@scones/image-classifier';
import { InferenceTimeoutError, ModelInferenceError, ModelServerConfigError, QueueFullError } from '../errors';
import { MicroBatcher } from './micro-batcher';

const images = Array.from({ length: 10 }, (_, i) => solidPng(i * 25).image);

describe('MicroBatcher', () => {
  it('predicts a lone image in a batch of one and answers with its own probabilities', async () => {
    const model = new FakePredictor();
    const batcher = new MicroBatcher(model);
    await expect(batcher.predict(images[3])).resolves.toEqual(FakePredictor.expected(images[3]));
    expect(model.batches).toEqual([1]);
  });

  it('batches images that arrive together and routes each answer to its own request', async () => {
    const model = new FakePredictor();
    const batcher = new MicroBatcher(model, { maxBatchSize: 4 });
    const answers = await Promise.all(images.map((image) => batcher.predict(image)));
    answers.forEach((answer, i) => expect(answer).toEqual(FakePredictor.expected(images[i])));
    expect(model.batches).toEqual([4, 4, 2]);
    expect(batcher.stats()).toMatchObject({ batches: 3, images: 10, largestBatch: 4, queued: 0 });
  });

  it('collects the images that queue up while a batch runs into the next batch', async () => {
    const model = new FakePredictor();
    const gate = deferred();
    model.gate = gate.promise;
    const batcher = new MicroBatcher(model, { maxBatchSize: 32 });
    const first = batcher.predict(images[0]);
    await new Promise((r) => setImmediate(r));
    const rest = images.slice(1, 6).map((image) => batcher.predict(image));
    model.gate = undefined;
    gate.resolve();
    await Promise.all([first, ...rest]);
    expect(model.batches).toEqual([1, 5]);
  });

  it('waits up to maxDelayMs for company when configured, on its clock', async () => {
    const model = new FakePredictor();
    const clock = new VirtualClock();
    const batcher = new MicroBatcher(model, { maxDelayMs: 20, clock });
    const first = batcher.predict(images[0]);
    await clock.advance(5);
    expect(model.batches).toEqual([]);
    const second = batcher.predict(images[1]);
    await clock.advance(14);
    expect(model.batches).toEqual([]);
    await clock.advance(1);
    await Promise.all([first, second]);
    expect(model.batches).toEqual([2]);
  });

  it('serves first come, first served: each batch takes the oldest waiting images', async () => {
    const model = new FakePredictor();
    const gate = deferred();
    model.gate = gate.promise;
    const batcher = new MicroBatcher(model, { maxBatchSize: 3 });
    const order: number[] = [];
    const all = images.map((image, i) => batcher.predict(image).then(() => order.push(i)));
    await settle();
    model.gate = undefined;
    gate.resolve();
    await Promise.all(all);
    expect(model.batches).toEqual([3, 3, 3, 1]);
    expect(model.seen).toEqual(images);
    expect(order).toEqual(images.map((_, i) => i));
  });

  it('lets the event loop turn between two batches of a model that computes on this thread', async () => {
    // A synchronous model (like the in-thread wasm backend): a timer set while the first batch
    // computes must fire before the next batch starts, so /ping is answered between batches.
    const events: string[] = [];
    const batcher = new MicroBatcher(
      {
        classNames: ['a', 'b'],
        async predictImages(batch) {
          events.push(`batch of ${batch.length}`);
          if (events.length === 1) setTimeout(() => events.push('timer'), 0);
          const until = Date.now() + 5;
          while (Date.now() < until) {
            /* compute */
          }
          return batch.map(() => [0.5, 0.5]);
        },
      },
      { maxBatchSize: 4 },
    );
    await Promise.all(images.map((image) => batcher.predict(image)));
    expect(events).toEqual(['batch of 4', 'timer', 'batch of 4', 'batch of 2']);
  });

  it('runs as many model calls at once as the predictor can take', async () => {
    const model = Object.assign(new FakePredictor(), { concurrency: 2 });
    const gate = deferred();
    model.gate = gate.promise;
    const batcher = new MicroBatcher(model, { maxBatchSize: 4 });
    const all = Promise.all(images.map((image) => batcher.predict(image)));
    await settle();
    // Two calls are running (4 + 4 images); the last 2 images wait for a free slot.
    expect(model.batches).toEqual([4, 4]);
    expect(batcher.stats()).toMatchObject({ running: 2, queued: 10 });
    model.gate = undefined;
    gate.resolve();
    await all;
    expect(model.batches).toEqual([4, 4, 2]);
  });

  it('refuses images beyond the queue limit with QueueFullError, and accepts again once drained', async () => {
    const model = new FakePredictor();
    const gate = deferred();
    model.gate = gate.promise;
    const batcher = new MicroBatcher(model, { maxQueue: 2 });
    const accepted = [batcher.predict(images[0]), batcher.predict(images[1])];
    await expect(batcher.predict(images[2])).rejects.toBeInstanceOf(QueueFullError);
    expect(batcher.stats().rejected).toBe(1);
    model.gate = undefined;
    gate.resolve();
    await Promise.all(accepted);
    await expect(batcher.predict(images[2])).resolves.toEqual(FakePredictor.expected(images[2]));
  });

  it('fails every request of a batch whose model call fails, then keeps serving', async () => {
    const model = new FakePredictor();
    model.failWith = new Error('out of memory');
    const batcher = new MicroBatcher(model);
    const results = await Promise.allSettled([batcher.predict(images[0]), batcher.predict(images[1])]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ModelInferenceError);
      expect((r as PromiseRejectedResult).reason.message).toBe('the model failed on a batch of 2: out of memory');
    }
    model.failWith = undefined;
    await expect(batcher.predict(images[1])).resolves.toEqual(FakePredictor.expected(images[1]));
  });

  it('hands bytes to a predictor that decodes itself, and fails only the images it could not decode', async () => {
    const calls: number[] = [];
    const batcher = new MicroBatcher({
      classNames: ['a', 'b'],
      predictImages: async () => {
        throw new Error('not used');
      },
      async predictEncoded(encoded) {
        calls.push(encoded.length);
        return encoded.map((bytes) => (bytes[0] === 0x89 ? [0.25, 0.75] : new ImageDecodeError(`not a PNG (${bytes.length} bytes)`)));
      },
    });
    const results = await Promise.allSettled([batcher.predict(solidPng(1).png), batcher.predict(Buffer.from('junk')), batcher.predict(solidPng(2).png)]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([[0.25, 0.75], 'not a PNG (4 bytes)', [0.25, 0.75]]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ImageDecodeError);
    expect(calls).toEqual([3]);
    await expect(new MicroBatcher(new FakePredictor()).predict(solidPng(1).png)).rejects.toThrow('this model takes decoded images only (it has no predictEncoded)');
  });

  it('rejects answers of the wrong shape', async () => {
    const batcher = new MicroBatcher({ classNames: ['a', 'b'], predictImages: async () => [[0.5, 0.5]] });
    const results = await Promise.allSettled([batcher.predict(images[0]), batcher.predict(images[1])]);
    expect((results[0] as PromiseRejectedResult).reason.message).toBe('the model answered 1 results for 2 images');
    const nan = new MicroBatcher({ classNames: ['a', 'b'], predictImages: async () => [[Number.NaN, 1]] });
    await expect(nan.predict(images[0])).rejects.toThrow("the model's answer for image 0 is not 2 finite probabilities");
  });

  it('times out a model call that never answers, on its clock', async () => {
    const clock = new VirtualClock();
    const batcher = new MicroBatcher({ classNames: ['a', 'b'], predictImages: () => new Promise(() => undefined) }, { timeoutMs: 30, clock });
    const answer = batcher.predict(images[0]).catch((error: unknown) => error);
    await clock.advance(29);
    expect(batcher.stats().running).toBe(1);
    await clock.advance(1);
    await expect(answer).resolves.toBeInstanceOf(InferenceTimeoutError);
    await expect(answer).resolves.toMatchObject({ message: 'the model did not answer within 30 ms (batch of 1)' });
  });

  it('validates its options', () => {
    const model = new FakePredictor();
    expect(() => new MicroBatcher(model, { maxBatchSize: 0 })).toThrow(new ModelServerConfigError('maxBatchSize: expected a positive integer, got 0'));
    expect(() => new MicroBatcher(model, { maxQueue: 1.5 })).toThrow(ModelServerConfigError);
    expect(() => new MicroBatcher(model, { maxDelayMs: -1 })).toThrow(ModelServerConfigError);
    expect(() => new MicroBatcher(model, { concurrency: 0 })).toThrow(new ModelServerConfigError('concurrency: expected a positive integer, got 0'));
  });

  it('idle() resolves once everything queued is answered', async () => {
    const model = new FakePredictor();
    const batcher = new MicroBatcher(model);
    const pending = Promise.all(images.map((image) => batcher.predict(image)));
    await batcher.idle();
    expect(batcher.stats().queued).toBe(0);
    expect(model.batches.reduce((a, b) => a + b, 0)).toBe(images.length);
    await pending;
  });
});
