import * as tf from '@tensorflow/tfjs';
import { onBackend, relativeError, values } from '../../test/tf-helpers';
import { initBackend } from './backend';
import { WASM_CONV_GRADIENT_KERNELS } from './wasm-conv-gradients';

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

describe('wasm convolution gradient kernels', () => {
  beforeAll(async () => {
    await initBackend({ threads: false });
  });

  it('are registered for wasm, replacing the scalar Conv2DBackpropInput', () => {
    for (const config of WASM_CONV_GRADIENT_KERNELS) expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).toBe(config.kernelFunc);
  });

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
