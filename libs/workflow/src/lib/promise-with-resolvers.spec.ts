import { ensurePromiseWithResolvers } from './promise-with-resolvers';

/** A fresh Promise subclass, so the test can remove and install the method without touching the global. */
function promiseClass(): PromiseConstructor & { withResolvers?: unknown } {
  class TestPromise<T> extends Promise<T> {}
  Object.defineProperty(TestPromise, 'withResolvers', { value: undefined, writable: true, configurable: true });
  return TestPromise as unknown as PromiseConstructor & { withResolvers?: unknown };
}

describe('ensurePromiseWithResolvers', () => {
  it('installs a working withResolvers when it is missing', async () => {
    const P = promiseClass();
    expect(ensurePromiseWithResolvers(P)).toBe(true);
    const withResolvers = P.withResolvers as <T>() => { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void };
    const resolved = withResolvers.call(P);
    expect(resolved.promise).toBeInstanceOf(P);
    resolved.resolve(42);
    await expect(resolved.promise).resolves.toBe(42);
    const rejected = withResolvers.call(P);
    rejected.reject(new Error('boom'));
    await expect(rejected.promise).rejects.toThrow('boom');
    expect(Object.getOwnPropertyDescriptor(P, 'withResolvers')).toMatchObject({ enumerable: false, writable: true, configurable: true });
  });

  it('leaves an existing implementation alone', () => {
    const P = promiseClass();
    const native = () => 'native';
    P.withResolvers = native;
    expect(ensurePromiseWithResolvers(P)).toBe(false);
    expect(P.withResolvers).toBe(native);
  });

  it('makes the global Promise usable by aws-local-stepfunctions on this Node version', () => {
    ensurePromiseWithResolvers();
    const { promise, resolve } = (Promise as unknown as { withResolvers<T>(): { promise: Promise<T>; resolve(v: T): void } }).withResolvers<string>();
    resolve('ok');
    return expect(promise).resolves.toBe('ok');
  });
});
