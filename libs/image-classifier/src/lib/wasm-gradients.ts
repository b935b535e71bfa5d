import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs, DataType, KernelConfig, KernelFunc, MaxPoolGradAttrs, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { BackendInitError } from '../errors';

/*
 * Gradient kernels for the `wasm` backend, where its own are missing or slow.
 *
 * Convolution gradients, composed from its XNNPACK-backed kernels:
 *
 * - Conv2DBackpropFilter (the filter gradient) is missing from tfjs-backend-wasm 4.22, so a model
 *   cannot train on it at all. dW[i,j,c,o] = Σ_{b,y,x} X[b, y·s+i-pad, x·s+j-pad, c] · dY[b,y,x,o] is
 *   a convolution of X (batch ↔ channels swapped: [C,H,W,B]) with dY as the filter ([h',w',B,O]),
 *   dilated by the forward stride, which XNNPACK runs as one dense GEMM.
 * - Conv2DBackpropInput (the input gradient) exists but is a scalar C++ loop, 5–10x slower than the
 *   forward convolution. dX is the 'full' convolution of dY (zero-stuffed by the stride) with the
 *   filter rotated by 180° and its in/out channels swapped, again one XNNPACK convolution. The
 *   rotation is a plain loop over the heap: the wasm Transpose + Reverse pair took 0.35–2.3 ms
 *   per call for this network's filters (Reverse converts every index), 5 % of a training step.
 *
 * MaxPoolGrad: the wasm kernel took 16 % of a `--quick` training run, and it is not TensorFlow's
 * gradient: a window whose values are all negative passes no gradient, and ties go to the last
 * maximum. One pass over the windows in JavaScript, reading and writing the wasm heap directly,
 * is 2.7× faster (6.9 vs 18.6 ms for [32, 32, 32, 24], 2×2 stride 2) and gives each window's
 * gradient to its first maximum in row-major order, exactly as the `cpu` backend and TensorFlow.
 *
 * All are guarded by gradient checks against the `cpu` backend (wasm-gradients.spec.ts).
 */

interface KernelRunner {
  run(name: string, inputs: NamedTensorInfoMap, attrs?: NamedAttrMap): TensorInfo;
  /** A new tensor on the wasm heap, freed by {@link finish} unless it is the result. */
  allocate(shape: number[], dtype: DataType): TensorInfo;
  /** Frees every intermediate except `result`. */
  finish(result: TensorInfo): TensorInfo;
}

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels use. */
interface WasmHeapBackend {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  /** A view of the tensor's memory; invalid once the heap grows (any later allocation). */
  typedArrayFromHeap(tensor: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const heapOf = (backend: unknown) => backend as WasmHeapBackend;

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
    allocate(shape, dtype) {
      const out = heapOf(backend).makeOutput(shape, dtype);
      intermediates.push(out);
      return out;
    },
    finish(result) {
      // Reshape outputs share their input's data with a reference count: release each once.
      for (const t of intermediates) if (t !== result) heapOf(backend).disposeData(t.dataId);
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
  const f = rotateFilter(k, backend, filter);
  return k.finish(k.run('Conv2D', { x: d, filter: f }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] }));
};

/** The filter [h, w, in, out] turned by 180° with its channels swapped: [h, w, out, in], f'[i,j,o,c] = f[h-1-i, w-1-j, c, o]. */
function rotateFilter(k: KernelRunner, backend: unknown, filter: TensorInfo): TensorInfo {
  const [fh, fw, inChannels, outChannels] = filter.shape;
  const rotated = k.allocate([fh, fw, outChannels, inChannels], filter.dtype);
  // Views after the allocation, which can grow (and so detach) the heap.
  const source = heapOf(backend).typedArrayFromHeap(filter);
  const target = heapOf(backend).typedArrayFromHeap(rotated);
  const plane = inChannels * outChannels;
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const from = ((fh - 1 - i) * fw + (fw - 1 - j)) * plane;
      const to = (i * fw + j) * plane;
      for (let c = 0; c < inChannels; c++) {
        for (let o = 0; o < outChannels; o++) target[to + o * inChannels + c] = source[from + c * outChannels + o];
      }
    }
  }
  return rotated;
}

const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const heap = heapOf(backend);
  const result = heap.makeOutput(input.shape, 'float32');
  // Views after the allocation, which can grow (and so detach) the heap.
  const x = heap.typedArrayFromHeap(input);
  maxPoolBackprop(x instanceof Float32Array ? x : Float32Array.from(x), heap.typedArrayFromHeap(dy) as Float32Array, heap.typedArrayFromHeap(result) as Float32Array, info);
  return result;
};

/**
 * dx of a max pool: each window's gradient goes to its first maximum (row-major), as on the cpu
 * backend. Channels are innermost, so every window position is read as one contiguous run.
 */
function maxPoolBackprop(x: Float32Array, gradient: Float32Array, dx: Float32Array, info: ReturnType<typeof tf.backend_util.computePool2DInfo>): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth, effectiveFilterHeight, effectiveFilterWidth, padInfo } = info;
  const best = new Float32Array(inChannels);
  const at = new Int32Array(inChannels);
  dx.fill(0);
  let g = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const top = oy * strideHeight - padInfo.top;
      const yFrom = Math.max(0, top);
      const yTo = Math.min(inHeight, top + effectiveFilterHeight);
      for (let ox = 0; ox < outWidth; ox++, g += inChannels) {
        const left = ox * strideWidth - padInfo.left;
        const xFrom = Math.max(0, left);
        const xTo = Math.min(inWidth, left + effectiveFilterWidth);
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        for (let y = yFrom; y < yTo; y++) {
          for (let column = xFrom; column < xTo; column++) {
            const base = ((b * inHeight + y) * inWidth + column) * inChannels;
            for (let c = 0; c < inChannels; c++) {
              const v = x[base + c];
              if (v > best[c]) {
                best[c] = v;
                at[c] = base + c;
              }
            }
          }
        }
        // A window of NaNs (or outside the input) passes no gradient, as on the cpu backend.
        for (let c = 0; c < inChannels; c++) if (at[c] >= 0) dx[at[c]] += gradient[g + c];
      }
    }
  }
}

/** The kernels this module registers for `wasm` (exported for the gradient-check tests). */
export const WASM_GRADIENT_KERNELS: readonly KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilter },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2dBackpropInput },
  { kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGrad },
];

/** Registers (or replaces) these gradient kernels for the wasm backend. Idempotent. */
export function registerWasmGradients(): void {
  for (const config of WASM_GRADIENT_KERNELS) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
