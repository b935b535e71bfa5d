// The model's arithmetic alone, in one process with the thread count of SCONES_TFJS_THREADS
// (the wasm pool is fixed per process, so image-classifier.bench.ts runs this once per setting).
//   SCONES_TFJS_THREADS=0 node tools/run-ts.js libs/image-classifier/bench/inference-speed.ts <artifact-dir> <staged-dir>
// Prints one JSON object: per network (the trained artifact; the previous full preset's ResNet-9,
// untrained, same arithmetic as the model it replaces), per path (tfjs-layers `predict`, as before;
// the compiled serving graph), the time of one image, of one image with its mirror (flip TTA), and
// per image in a batch of 32; wall and CPU milliseconds, medians of alternated rounds.
import * as tf from '@tensorflow/tfjs';
import { backendInfo, buildResNet, flipImage, loadArtifactModel, preprocess, readChannel, readManifest, type Preprocessing, type RgbImage } from '../src';
import { compileInferenceGraph } from '../src/lib/inference-graph';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Median wall and CPU time of `fn` over `rounds` rounds of `reps` calls each (after a warm-up). */
function measure(fn: () => void, reps: number, rounds = 7): Timing {
  for (let i = 0; i < Math.max(5, reps); i++) fn();
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    walls.push((performance.now() - t0) / reps);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000 / reps);
  }
  return { wallMs: median(walls), cpuMs: median(cpus) };
}

type Forward = (images: RgbImage[], flip: boolean) => void;

/** The path before this change: `model.predict` through tfjs-layers, the mirror as a second call. */
function layersPath(model: tf.LayersModel, p: Preprocessing): Forward {
  return (images, flip) =>
    tf.tidy(() => {
      const a = model.predict(preprocess(images, p)) as tf.Tensor;
      const out = flip ? tf.div(tf.add(a, model.predict(preprocess(images.map(flipImage), p)) as tf.Tensor), 2) : a;
      out.dataSync();
    });
}

/** The serving graph: batch norm folded, ReLU fused, the mirror in the same call. */
function graphPath(model: tf.LayersModel, p: Preprocessing): Forward {
  const graph = compileInferenceGraph(model);
  return (images, flip) =>
    tf.tidy(() => {
      graph.run(preprocess(flip ? [...images, ...images.map(flipImage)] : images, p)).probabilities.dataSync();
    });
}

async function main(): Promise<void> {
  const [artifact, staged] = process.argv.slice(2);
  if (!artifact || !staged) throw new Error('usage: inference-speed.ts <artifact-dir> <staged-dir>');
  const backend = await backendInfo();
  const manifest = await readManifest(artifact);
  const trained = await loadArtifactModel(artifact, manifest);
  const previous = buildResNet({ architecture: 'resnet9', widths: [16, 32, 64, 128], blocks: [0, 1, 0, 1], numClasses: 2, inputSize: { width: 32, height: 32 }, seed: 1 }).model;
  const test = (await readChannel({ directory: staged }, 'test', { numClasses: 2 })).map((x) => x.image);
  const p = manifest.preprocessing;
  let next = 0;
  const one = () => [test[next++ % test.length]];
  const batch = () => Array.from({ length: 32 }, () => test[next++ % test.length]);
  const networks = { trained: { model: trained, architecture: String(manifest.training.hyperparameters.architecture) }, previous: { model: previous, architecture: 'resnet9-16-32-64-128x0-1-0-1 (the previous full preset)' } };
  const results: Record<string, unknown> = {};
  for (const [name, { model, architecture }] of Object.entries(networks)) {
    const paths = { layers: layersPath(model, p), graph: graphPath(model, p) };
    const rows: Record<string, unknown> = {};
    for (const [path, forward] of Object.entries(paths)) {
      const single = measure(() => forward(one(), false), 50);
      const singleFlip = measure(() => forward(one(), true), 50);
      const batch32 = measure(() => forward(batch(), false), 3, 5);
      const batch32Flip = measure(() => forward(batch(), true), 3, 5);
      rows[path] = {
        singleMs: single,
        singleFlipMs: singleFlip,
        batch32PerImageMs: { wallMs: batch32.wallMs / 32, cpuMs: batch32.cpuMs / 32 },
        batch32FlipPerImageMs: { wallMs: batch32Flip.wallMs / 32, cpuMs: batch32Flip.cpuMs / 32 },
      };
    }
    results[name] = { architecture, ...rows };
  }
  process.stdout.write(`${JSON.stringify({ threads: backend.threads, flipChosen: manifest.training.hyperparameters.testTimeFlip === true, results })}\n`);
}

main().catch((error) => {
  process.stderr.write(`inference-speed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
