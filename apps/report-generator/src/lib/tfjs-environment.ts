import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The report embeds captured images with the model on TensorFlow.js' wasm backend, which is
 * bundled into the entry file; its `.wasm` binaries ship beside it (project.json `assets`, and the
 * CDK's copy after bundling). Points the backend at them when nothing else was configured, and
 * runs it on one thread unless told otherwise: Lambda gives 1 024 MB about half a vCPU.
 */
export function configureBundledTfjs(bundleDirectory: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!env.SCONES_TFJS_WASM_DIR && existsSync(join(bundleDirectory, 'tfjs-backend-wasm-simd.wasm'))) env.SCONES_TFJS_WASM_DIR = bundleDirectory;
  env.SCONES_TFJS_THREADS ??= '0';
}
