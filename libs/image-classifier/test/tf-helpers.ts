import * as tf from '@tensorflow/tfjs';

/** Runs `fn` on the given backend and returns its result as plain arrays (backend switches back to wasm). */
export async function onBackend<T>(backend: 'cpu' | 'wasm', fn: () => T): Promise<T> {
  await tf.setBackend(backend);
  // The cpu backend's one-time advice to install tfjs-node is noise here.
  if (backend === 'cpu') (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  try {
    return fn();
  } finally {
    await tf.setBackend('wasm');
  }
}

/** Deterministic pseudo-random values in [-1, 1). */
export function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** max |a - b| relative to max(1, max |b|). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}
