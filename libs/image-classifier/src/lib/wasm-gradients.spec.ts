import * as tf from '@tensorflow/tfjs';
import { onBackend, relativeError, values } from '../../test/tf-helpers';
import { initBackend } from './backend';
import { WASM_GRADIENT_KERNELS } from './wasm-gradients';

type Case = { input: [number, number, number, number]; filter: [number, number, number, number]; strides: number | [number, number]; pad: 'same' | 'valid' };

// Every combination the issue asks for (strides 1 and 2, 'same' and 'valid'), plus the shapes
// where the index arithmetic differs: odd sizes, 1×1 and 5×5 filters, uneven strides, rectangles.
const CASES: Case[] = [
  { input: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { input: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'valid' },
  { input: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { input: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { input: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { input: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { input: [3, 8, 8, 5], filter: [1, 1, 5, 6], strides: 2, pad: 'same' },
  { input: [1, 7, 7, 2], filter: [5, 5, 2, 3], strides: 2, pad: 'same' },
  { input: [2, 10, 10, 3], filter: [4, 4, 3, 2], strides: 2, pad: 'same' },
  { input: [1, 9, 11, 3], filter: [3, 3, 3, 4], strides: [2, 1], pad: 'same' },
  { input: [2, 6, 6, 5], filter: [2, 2, 5, 4], strides: 3, pad: 'valid' },
];

beforeAll(async () => {
  await initBackend({ threads: false });
});

it('the gradient kernels are registered for wasm, replacing its slow Conv2DBackpropInput and MaxPoolGrad', () => {
  for (const config of WASM_GRADIENT_KERNELS) expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).toBe(config.kernelFunc);
});

describe('wasm convolution gradient kernels', () => {
  it.each(CASES)('match the cpu backend: input $input filter $filter strides $strides pad $pad', async ({ input, filter, strides, pad }) => {
    const x = values(input.reduce((a, b) => a * b), 1);
    const w = values(filter.reduce((a, b) => a * b), 2);
    const gradients = () =>
      tf.tidy(() => {
        const xt = tf.tensor4d(x, input);
        const wt = tf.tensor4d(w, filter);
        const y = tf.conv2d(xt, wt, strides, pad);
        // A random linear functional of the output: its gradient is a random dy.
        const r = tf.tensor(values(y.size, 3), y.shape);
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad), r)))([xt, wt]);
        return { dx: dx.dataSync().slice(), dw: dw.dataSync().slice(), dxShape: dx.shape, dwShape: dw.shape };
      });
    const before = tf.memory().numTensors;
    const wasm = await onBackend('wasm', gradients);
    expect(tf.memory().numTensors).toBe(before);
    const cpu = await onBackend('cpu', gradients);
    expect(wasm.dxShape).toEqual(input);
    expect(wasm.dwShape).toEqual(filter);
    expect(relativeError(wasm.dx, cpu.dx)).toBeLessThan(1e-5);
    expect(relativeError(wasm.dw, cpu.dw)).toBeLessThan(1e-5);
  });

  it('free every intermediate buffer', async () => {
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const before = backend.numDataIds();
    tf.tidy(() => {
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, w]);
    });
    expect(backend.numDataIds()).toBe(before);
    tf.dispose([x, w]);
  });
});

type PoolCase = { input: [number, number, number, number]; size: number | [number, number]; strides: number | [number, number]; pad: 'same' | 'valid'; ties?: boolean };

// The network's 2×2/2 pools, overlapping windows, padding on every side, odd and rectangular
// sizes, and inputs made of few distinct values so that windows hold ties (the gradient goes to
// the first maximum in row-major order) and all-equal windows (ReLU zeros).
const POOL_CASES: PoolCase[] = [
  { input: [2, 8, 8, 3], size: 2, strides: 2, pad: 'valid' },
  { input: [2, 8, 8, 3], size: 2, strides: 2, pad: 'same' },
  { input: [2, 9, 7, 3], size: 2, strides: 2, pad: 'same' },
  { input: [2, 9, 7, 3], size: 2, strides: 2, pad: 'valid' },
  { input: [1, 9, 9, 4], size: 3, strides: 2, pad: 'same' },
  { input: [1, 9, 9, 4], size: 3, strides: 1, pad: 'valid' },
  { input: [2, 6, 10, 2], size: [2, 3], strides: [1, 2], pad: 'same' },
  { input: [2, 8, 8, 3], size: 2, strides: 2, pad: 'valid', ties: true },
  { input: [1, 9, 9, 4], size: 3, strides: 2, pad: 'same', ties: true },
];

describe('wasm MaxPoolGrad', () => {
  it.each(POOL_CASES)('matches the cpu backend: input $input size $size strides $strides pad $pad ties $ties', async ({ input, size, strides, pad, ties }) => {
    const raw = values(input.reduce((a, b) => a * b), 4);
    // Few distinct values (and many zeros, as after a ReLU) make ties common.
    const x = ties ? raw.map((v) => Math.max(0, Math.round(v * 2) / 2)) : raw;
    const gradient = () =>
      tf.tidy(() => {
        const xt = tf.tensor4d(x, input);
        const y = tf.maxPool(xt, size, strides, pad);
        const r = tf.tensor(values(y.size, 5), y.shape);
        const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, size, strides, pad), r)))(xt);
        return { dx: dx.dataSync().slice(), shape: dx.shape, dtype: dx.dtype };
      });
    const before = tf.memory().numTensors;
    const wasm = await onBackend('wasm', gradient);
    expect(tf.memory().numTensors).toBe(before);
    const cpu = await onBackend('cpu', gradient);
    expect(wasm.shape).toEqual(input);
    expect(wasm.dtype).toBe('float32');
    if (ties) expect(new Set(x).size).toBeLessThan(5);
    expect(relativeError(wasm.dx, cpu.dx)).toBeLessThan(1e-6);
  });

  it('passes no gradient through a window of NaNs, like the cpu backend', async () => {
    const x = [Number.NaN, Number.NaN, 1, 2, Number.NaN, Number.NaN, 3, 4];
    const gradient = () => tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid')))(tf.tensor4d(x, [1, 2, 4, 1])).dataSync().slice());
    const wasm = await onBackend('wasm', gradient);
    expect(Array.from(wasm)).toEqual(Array.from(await onBackend('cpu', gradient)));
    expect(Array.from(wasm)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('frees everything but its result, and survives the heap growing', async () => {
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.randomNormal([4, 32, 32, 16]) as tf.Tensor4D;
    const before = backend.numDataIds();
    const dx = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid')))(x));
    expect(backend.numDataIds()).toBe(before + 1);
    // Exactly one of each 2×2 window receives the gradient (1 from the sum).
    expect(dx.sum().dataSync()[0]).toBe(4 * 16 * 16 * 16);
    tf.dispose([x, dx]);
  });
});
