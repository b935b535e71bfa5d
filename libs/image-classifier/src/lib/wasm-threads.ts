import { resolveObjectURL } from 'node:buffer';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

/*
 * Lets tfjs-backend-wasm 4.22 run its multi-threaded build (XNNPACK on a pthreadpool) under Node.
 * Upstream disables it on Node (tensorflow/tfjs#3830) because its Emscripten glue starts pthread
 * workers from `blob:` URLs, which `worker_threads` cannot load. Three small adaptations, applied
 * only while the backend initialises:
 *
 * 1. `globalThis.Worker` is pinned to {@link PthreadWorker}: an eval'd bootstrap that receives the
 *    worker script as text (read from the blob in this thread), and serves the main script (sent
 *    as a Blob in the 'load' message) to `importScripts`. The bundle-scoped names the factory's
 *    source refers to (`require$$0`...) are provided as globals in the worker.
 * 2. XNNPACK sizes its pool as logical cores / 2 (it assumes hyper-threading) and caps requests at
 *    that, so on a 2-core machine it would use 1 thread; `os.cpus()` reports twice the cores while
 *    the module reads it.
 * 3. Pool workers never keep the process alive (their threads run forever by design).
 */

// Names the Emscripten factory's source (`Function#toString` of the bundled factory) refers to.
const BOOTSTRAP = `
const { parentPort } = require('node:worker_threads');
Object.assign(globalThis, {
  require$$0: require('node:fs'), require$$1: require('node:path'), require$$3: require('node:perf_hooks'),
  require$$4: require('node:os'), commonjsGlobal: globalThis,
});
const inline = new Map();
const early = [];
const listeners = [];
let chain = Promise.resolve();
// The 'load' message carries the main script as a Blob; turn it into a key importScripts knows.
async function adapt(data) {
  if (data && data.cmd === 'load' && data.urlOrBlob && typeof data.urlOrBlob !== 'string') {
    const key = 'scones-inline:' + inline.size;
    inline.set(key, await data.urlOrBlob.text());
    data.urlOrBlob = key;
  }
  return data;
}
const addListener = parentPort.on.bind(parentPort);
function beforeScript(message) {
  if (!message || typeof message.__sconesWorkerScript !== 'string') { early.push(message); return; }
  parentPort.off('message', beforeScript);
  parentPort.on = (event, fn) => {
    if (event !== 'message') return addListener(event, fn);
    const ordered = (d) => { chain = chain.then(() => adapt(d)).then(fn); };
    listeners.push(ordered);
    return addListener('message', ordered);
  };
  (0, eval)(message.__sconesWorkerScript);
  const importScripts = globalThis.importScripts;
  globalThis.importScripts = (f) => (inline.has(f) ? (0, eval)(inline.get(f)) : importScripts(f));
  for (const m of early.splice(0)) for (const l of listeners) l(m);
}
addListener('message', beforeScript);
`;

/** A pthread worker started from the `blob:` URL Emscripten hands to `new Worker(url)`. */
export class PthreadWorker extends Worker {
  constructor(url: string | URL) {
    super(BOOTSTRAP, { eval: true });
    this.unref();
    const blob = resolveObjectURL(String(url));
    if (!blob) throw new Error(`wasm threads: cannot resolve worker script ${String(url)}`);
    blob.text().then(
      (text) => this.postMessage({ __sconesWorkerScript: text }),
      (error: unknown) => this.emit('error', error),
    );
  }

  // Emscripten ref()s a worker while its pthread runs; pool threads run for the process's lifetime.
  override ref(): void {
    /* never keep the process alive */
  }
}

/**
 * Runs `init` (the wasm backend's initialisation) with the adaptations above in place and
 * removes them afterwards, whatever happens.
 */
export async function withNodePthreads<T>(init: () => Promise<T>): Promise<T> {
  const workerDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  const cpus = os.cpus;
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => PthreadWorker,
    // The Emscripten glue assigns worker_threads.Worker here; keep ours.
    set: () => undefined,
  });
  os.cpus = () => {
    const real = cpus();
    return [...real, ...real];
  };
  try {
    return await init();
  } finally {
    os.cpus = cpus;
    if (workerDescriptor) Object.defineProperty(globalThis, 'Worker', workerDescriptor);
    else delete (globalThis as { Worker?: unknown }).Worker;
  }
}
