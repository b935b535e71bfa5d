import { deferred, FakePredictor, solidPng } from '../../test/fake-predictor';
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

  it('waits up to maxDelayMs for company when configured', async () => {
    const model = new FakePredictor();
    const batcher = new MicroBatcher(model, { maxDelayMs: 20 });
    const first = batcher.predict(images[0]);
    await new Promise((r) => setTimeout(r, 5));
    await Promise.all([first, batcher.predict(images[1])]);
    expect(model.batches).toEqual([2]);
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

  it('rejects answers of the wrong shape', async () => {
    const batcher = new MicroBatcher({ classNames: ['a', 'b'], predictImages: async () => [[0.5, 0.5]] });
    const results = await Promise.allSettled([batcher.predict(images[0]), batcher.predict(images[1])]);
    expect((results[0] as PromiseRejectedResult).reason.message).toBe('the model answered 1 results for 2 images');
    const nan = new MicroBatcher({ classNames: ['a', 'b'], predictImages: async () => [[Number.NaN, 1]] });
    await expect(nan.predict(images[0])).rejects.toThrow("the model's answer for image 0 is not 2 finite probabilities");
  });

  it('times out a model call that never answers', async () => {
    const batcher = new MicroBatcher({ classNames: ['a', 'b'], predictImages: () => new Promise(() => undefined) }, { timeoutMs: 30 });
    await expect(batcher.predict(images[0])).rejects.toBeInstanceOf(InferenceTimeoutError);
  });

  it('validates its options', () => {
    const model = new FakePredictor();
    expect(() => new MicroBatcher(model, { maxBatchSize: 0 })).toThrow(new ModelServerConfigError('maxBatchSize: expected a positive integer, got 0'));
    expect(() => new MicroBatcher(model, { maxQueue: 1.5 })).toThrow(ModelServerConfigError);
    expect(() => new MicroBatcher(model, { maxDelayMs: -1 })).toThrow(ModelServerConfigError);
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
