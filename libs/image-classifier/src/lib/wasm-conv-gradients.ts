import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { BackendInitError } from '../errors';

/*
 * Convolution gradients for the `wasm` backend, composed from its own XNNPACK-backed kernels.
 *
 * - Conv2DBackpropFilter (the filter gradient) is missing from tfjs-backend-wasm 4.22, so a model
 *   cannot train on it at all. dW[i,j,c,o] = Σ_{b,y,x} X[b, y·s+i-pad, x·s+j-pad, c] · dY[b,y,x,o] is
 *   a convolution of X (batch ↔ channels swapped: [C,H,W,B]) with dY as the filter ([h',w',B,O]),
 *   dilated by the forward stride, which XNNPACK runs as one dense GEMM.
 * - Conv2DBackpropInput (the input gradient) exists but is a scalar C++ loop, 5–10x slower than the
 *   forward convolution. dX is the 'full' convolution of dY (zero-stuffed by the stride) with the
 *   filter rotated by 180° and its in/out channels swapped, again one XNNPACK convolution.
 *
 * Both are guarded by gradient checks against the `cpu` backend (wasm-conv-gradients.spec.ts).
 */

interface KernelRunner {
  run(name: string, inputs: NamedTensorInfoMap, attrs?: NamedAttrMap): TensorInfo;
  /** Frees every intermediate except `result`. */
  finish(result: TensorInfo): TensorInfo;
}

interface DisposingBackend {
  disposeData(dataId: object, force?: boolean): boolean;
}

function runner(backend: unknown): KernelRunner {
  const intermediates: TensorInfo[] = [];
  return {
    run(name, inputs, attrs = {}) {
      const kernel = tf.getKernel(name, 'wasm');
      if (!kernel) throw new BackendInitError(`wasm backend has no ${name} kernel`);
      const out = kernel.kernelFunc({ inputs, backend: backend as object, attrs }) as TensorInfo;
      intermediates.push(out);
      return out;
    },
    finish(result) {
      // Reshape outputs share their input's data with a reference count: release each once.
      for (const t of intermediates) if (t !== result) (backend as DisposingBackend).disposeData(t.dataId);
      return result;
    },
  };
}

function requireNhwc(kernel: string, dataFormat: string): void {
  if (dataFormat !== 'NHWC') throw new BackendInitError(`${kernel} on wasm supports NHWC only, got ${dataFormat}`);
}

const conv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  requireNhwc('Conv2DBackpropFilter', dataFormat);
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const [batch, height, width, inChannels] = x.shape;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow } = info;
  // The padded input rows/columns the forward pass actually read.
  const paddedHeight = (oh - 1) * sh + fh;
  const paddedWidth = (ow - 1) * sw + fw;
  const { top, left } = info.padInfo;
  const bottom = paddedHeight - height - top;
  const right = paddedWidth - width - left;
  const k = runner(backend);
  let xt = k.run('Transpose', { x }, { perm: [3, 1, 2, 0] });
  xt = k.run('PadV2', { x: xt }, { paddings: [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]], constantValue: 0 });
  // 'valid' padding with a stride can leave trailing rows the forward pass never read.
  if (bottom < 0 || right < 0) xt = k.run('Slice', { x: xt }, { begin: [0, 0, 0, 0], size: [inChannels, paddedHeight, paddedWidth, batch] });
  const dyt = k.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const grad = k.run('Conv2D', { x: xt, filter: dyt }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw] });
  return k.finish(k.run('Transpose', { x: grad }, { perm: [1, 2, 0, 3] }));
};

const conv2dBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  requireNhwc('Conv2DBackpropInput', dataFormat);
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const [batch, height, width] = inputShape;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow } = info;
  const outChannels = filter.shape[3];
  const k = runner(backend);
  let d = dy;
  let stuffedHeight = oh;
  let stuffedWidth = ow;
  if (sh > 1 || sw > 1) {
    // Zero-stuffing: [b,y,1,x,1,o] padded to [b,y,sh,x,sw,o] puts sh-1 zero rows after each row.
    d = k.run('Reshape', { x: dy }, { shape: [batch, oh, 1, ow, 1, outChannels] });
    d = k.run('PadV2', { x: d }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 });
    stuffedHeight = oh * sh;
    stuffedWidth = ow * sw;
    d = k.run('Reshape', { x: d }, { shape: [batch, stuffedHeight, stuffedWidth, outChannels] });
  }
  const padTop = fh - 1 - info.padInfo.top;
  const padLeft = fw - 1 - info.padInfo.left;
  let padBottom = height + fh - 1 - stuffedHeight - padTop;
  let padRight = width + fw - 1 - stuffedWidth - padLeft;
  if (padBottom < 0 || padRight < 0) {
    d = k.run('Slice', { x: d }, { begin: [0, 0, 0, 0], size: [batch, stuffedHeight + Math.min(0, padBottom), stuffedWidth + Math.min(0, padRight), outChannels] });
    padBottom = Math.max(0, padBottom);
    padRight = Math.max(0, padRight);
  }
  d = k.run('PadV2', { x: d }, { paddings: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]], constantValue: 0 });
  let f = k.run('Transpose', { x: filter }, { perm: [0, 1, 3, 2] });
  f = k.run('Reverse', { x: f }, { dims: [0, 1] });
  return k.finish(k.run('Conv2D', { x: d, filter: f }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] }));
};

/** The kernels this module registers for `wasm` (exported for the gradient-check tests). */
export const WASM_CONV_GRADIENT_KERNELS: readonly KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilter },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2dBackpropInput },
];

/** Registers (or replaces) the composed convolution gradient kernels for the wasm backend. Idempotent. */
export function registerWasmConvGradients(): void {
  for (const config of WASM_CONV_GRADIENT_KERNELS) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
