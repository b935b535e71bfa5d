import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { BackendInitError } from '../errors';
import { registerWasmGradients } from './wasm-gradients';
import { withNodePthreads } from './wasm-threads';

export interface BackendOptions {
  /**
   * Run XNNPACK on two threads (the wasm backend's threaded build, adapted for Node). Default:
   * `SCONES_TFJS_THREADS` (`1`/`0`), else true when the machine has at least 2 cores.
   */
  threads?: boolean;
  /** Directory holding the tfjs-backend-wasm `.wasm` files. Default: `SCONES_TFJS_WASM_DIR`, else the installed package's `dist/`. */
  wasmDirectory?: string;
}

export interface BackendInfo {
  name: string;
  threads: number;
  /** Whether the SIMD build of the wasm binary runs (4-wide float arithmetic in XNNPACK). */
  simd: boolean;
  /** Why the threaded build was not used, when it was asked for. */
  threadsFallback?: string;
}

// The Node adaptation of the threaded build relies on this exact package version's glue code.
const THREADS_TESTED_VERSION = '4.22.0';
const INIT_TIMEOUT_MS = 60_000;

let initialised: Promise<BackendInfo> | undefined;

/**
 * Where the `.wasm` binaries are. Resolved from the installed package at run time (not relative
 * to this file), so it also works from esbuild bundles that keep npm packages external.
 */
export function wasmDirectory(explicit?: string): string {
  const dir = explicit ?? process.env.SCONES_TFJS_WASM_DIR ?? join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  if (!existsSync(join(dir, 'tfjs-backend-wasm-simd.wasm'))) {
    throw new BackendInitError(`tfjs wasm binaries not found in ${dir} (set SCONES_TFJS_WASM_DIR to the directory holding tfjs-backend-wasm*.wasm)`);
  }
  return dir.endsWith('/') ? dir : `${dir}/`;
}

function threadsWanted(option: boolean | undefined): boolean {
  if (option !== undefined) return option;
  const env = process.env.SCONES_TFJS_THREADS;
  if (env === '0' || env === 'false') return false;
  if (env === '1' || env === 'true') return true;
  return availableParallelism() >= 2;
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BackendInitError(`${what} did not finish within ${INIT_TIMEOUT_MS / 1000}s`)), INIT_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function initialise(options: BackendOptions): Promise<BackendInfo> {
  setWasmPaths(wasmDirectory(options.wasmDirectory));
  registerWasmGradients();
  let threadsFallback: string | undefined;
  let threaded = threadsWanted(options.threads);
  if (threaded && version_wasm !== THREADS_TESTED_VERSION) {
    threaded = false;
    threadsFallback = `threads are adapted for tfjs-backend-wasm ${THREADS_TESTED_VERSION}, found ${version_wasm}`;
  }
  if (threaded && typeof SharedArrayBuffer === 'undefined') {
    threaded = false;
    threadsFallback = 'SharedArrayBuffer is not available';
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threaded);
  if (threaded) setThreadsCount(2);
  // The Emscripten glue installs process-wide uncaughtException/unhandledRejection handlers that
  // rethrow; they would change how the host process reports errors, so they are removed again.
  const before = { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
  try {
    const start = async () => {
      const ok = await tf.setBackend('wasm');
      if (!ok) throw new BackendInitError('TensorFlow.js could not start the wasm backend (see the message above)');
      await tf.ready();
    };
    await withTimeout(threaded ? withNodePthreads(start) : start(), 'starting the TensorFlow.js wasm backend');
  } finally {
    for (const listener of process.listeners('uncaughtException')) {
      if (!before.uncaughtException.includes(listener)) process.off('uncaughtException', listener);
    }
    for (const listener of process.listeners('unhandledRejection')) {
      if (!before.unhandledRejection.includes(listener)) process.off('unhandledRejection', listener);
    }
  }
  return { name: tf.getBackend(), threads: getThreadsCount(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') === true, ...(threadsFallback ? { threadsFallback } : {}) };
}

/**
 * Starts the TensorFlow.js wasm backend once per process (later calls return the same result,
 * whatever their options) with the convolution gradient kernels training needs. Returns the
 * backend name.
 */
export async function initBackend(options: BackendOptions = {}): Promise<string> {
  return (await backendInfo(options)).name;
}

/** Like {@link initBackend}, with the thread count actually in use. */
export function backendInfo(options: BackendOptions = {}): Promise<BackendInfo> {
  initialised ??= initialise(options).catch((error: unknown) => {
    initialised = undefined;
    throw error instanceof BackendInitError ? error : new BackendInitError(`cannot start the TensorFlow.js wasm backend: ${(error as Error)?.message ?? String(error)}`);
  });
  return initialised;
}
