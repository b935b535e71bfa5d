import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { onBackend, relativeError, values } from '../../test/tf-helpers';
import { backendInfo, initBackend, wasmDirectory } from './backend';

describe('initBackend', () => {
  const listeners = { uncaughtException: process.listeners('uncaughtException').length, unhandledRejection: process.listeners('unhandledRejection').length };

  it('starts the threaded wasm backend once, leaving process error handlers alone', async () => {
    expect(await initBackend({ threads: true })).toBe('wasm');
    const info = await backendInfo();
    expect(info.threads).toBe(availableParallelism() >= 2 ? 2 : info.threads);
    // Node 20+ has wasm SIMD: the SIMD build (XNNPACK's 4-wide kernels) must be the one running.
    expect(info.simd).toBe(true);
    expect(await initBackend({ threads: false })).toBe('wasm'); // idempotent: the first options win
    expect((await backendInfo()).threads).toBe(info.threads);
    expect(process.listeners('uncaughtException')).toHaveLength(listeners.uncaughtException);
    expect(process.listeners('unhandledRejection')).toHaveLength(listeners.unhandledRejection);
  });

  it('computes what the cpu backend computes on its worker threads', async () => {
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(values(8 * 16 * 16 * 8, 1), [8, 16, 16, 8]);
        const w = tf.tensor4d(values(3 * 3 * 8 * 16, 2), [3, 3, 8, 16]);
        return tf.conv2d(x, w, 1, 'same').dataSync().slice();
      });
    expect(relativeError(await onBackend('wasm', run), await onBackend('cpu', run))).toBeLessThan(1e-5);
  });

  it('names the directory when the .wasm files are missing', () => {
    expect(() => wasmDirectory('/nonexistent')).toThrow('tfjs wasm binaries not found in /nonexistent (set SCONES_TFJS_WASM_DIR');
    expect(wasmDirectory()).toMatch(/@tensorflow\/tfjs-backend-wasm\/dist\/$/);
  });
});
