import { AsyncQueue } from './async-queue';

describe('AsyncQueue', () => {
  it('hands items to waiting and later consumers, then ends on close', async () => {
    const queue = new AsyncQueue<number>();
    const first = queue.next();
    queue.push(1);
    queue.push(2);
    expect(await first).toEqual({ value: 1, done: false });
    queue.close();
    queue.push(3); // ignored after close
    const rest: number[] = [];
    for await (const n of queue) rest.push(n);
    expect(rest).toEqual([2]);
  });

  it('serves several consumers at once', async () => {
    const queue = new AsyncQueue<number>();
    const got: number[] = [];
    const consumers = [0, 1, 2].map(async () => {
      for (let next = await queue.next(); !next.done; next = await queue.next()) got.push(next.value);
    });
    for (let i = 0; i < 2000; i++) queue.push(i);
    queue.close();
    await Promise.all(consumers);
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it('drops queued items when a consumer returns', async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    await queue.return();
    expect(queue.isClosed).toBe(true);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });
});
