/**
 * aws-local-stepfunctions 3 declares Node >= 22 and calls `Promise.withResolvers` (ES2024, Node
 * 22+) in every Task state; nothing else in it needs Node 22. This project supports Node >= 20.11,
 * so the local runner installs this spec-conformant polyfill when, and only when, the function is
 * missing. A native implementation is never replaced.
 */
interface PromiseWithResolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

type PromiseConstructorWithResolvers = PromiseConstructor & { withResolvers?: <T>() => PromiseWithResolvers<T> };

/** Installs `Promise.withResolvers` if missing. Returns true if it installed it. */
export function ensurePromiseWithResolvers(target: PromiseConstructor = Promise): boolean {
  if (typeof (target as PromiseConstructorWithResolvers).withResolvers === 'function') return false;
  Object.defineProperty(target, 'withResolvers', {
    // Like the native one: a plain, writable, non-enumerable method that uses `this` as the constructor.
    value: function withResolvers<T>(this: PromiseConstructor): PromiseWithResolvers<T> {
      let resolve!: PromiseWithResolvers<T>['resolve'];
      let reject!: PromiseWithResolvers<T>['reject'];
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
  return true;
}
