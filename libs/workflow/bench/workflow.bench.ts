// Benchmark of the workflow on the local runner, end to end with real parts: the single-image
// definition and the batch (Map) definition on aws-local-stepfunctions, the three Lambda bundles
// (built like `nx build`), the embedded S3 over HTTP (s3rver) and the model endpoint over HTTP
// (@scones/model-server). Side by side: the same three handlers called directly, without the
// state machine (what the engine and the integration emulation add), and 200 single executions
// run 10 at a time against one Map execution of the 200 images.
//   node tools/run-ts.js libs/workflow/bench/workflow.bench.ts     (= npx nx run workflow:bench)
// The endpoint serves the newest trained model of the embedded S3 in .scones/s3 if there is one
// (SCONES_BENCH_MODEL=<artifact dir> picks one); otherwise a fake predictor that answers at once,
// so the figures are the workflow's own cost.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCifarRowPng, readCifarArchive } from '@scones/cifar-decoder';
import { loadClassifier } from '@scones/image-classifier';
import { createS3Client, putObjects } from '@scones/local-cloud';
import { startLocalS3 } from '@scones/stack-core/testing';
import { createModelServer, type Predictor } from '@scones/model-server';
import { findLatestManifestKey } from '@scones/monitor-analytics';
import { localLambdaContext } from '@scones/local-cloud';
import {
  buildBatchWorkflowDefinition,
  buildWorkflowDefinition,
  imageOutcomesOfBatch,
  loadLocalLambdas,
  LocalWorkflowRunner,
  LOCAL_FUNCTION_NAMES,
  LOCAL_NOTIFY_TOPIC_ARN,
  runExecutions,
  summarizeLatencies,
  testCase,
} from '../src/index';
import { buildBundles, syntheticImages, workspaceScratch } from '../test/local-stack';

const ROOT = process.env.SCONES_ROOT ?? process.cwd();
const CIFAR = process.env.SCONES_CIFAR_SOURCE || '/work/shared/data/cifar-100-python-bicycle-motorcycle.tar.gz';
const ROUNDS = 3;
const IMAGES = 200;
const WARMUP = 20;
const THRESHOLD = 0.8;
const GOALS = { p50Ms: 25, batchSeconds: 2 };
const ENDPOINT = 'bench-endpoint';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** 200 real CIFAR-100 test images (bicycle, motorcycle), or synthetic ones without the archive. */
async function testImages(): Promise<{ pngs: Buffer[]; source: string }> {
  if (existsSync(CIFAR)) {
    const archive = await readCifarArchive(CIFAR);
    const rows = Math.min(IMAGES, archive.test.rows);
    return { pngs: Array.from({ length: rows }, (_, row) => encodeCifarRowPng(archive.test.data, row)), source: `real CIFAR-100 test images (${CIFAR.split('/').pop()})` };
  }
  return { pngs: syntheticImages(IMAGES).map((i) => i.png), source: 'synthetic 32x32 PNGs (the CIFAR archive was not found)' };
}

/** The newest trained model of the embedded S3, or a fake predictor answering at once. */
async function predictor(): Promise<{ predictor: Predictor & { dispose?(): void }; description: string }> {
  if (process.env.SCONES_BENCH_MODEL) {
    return { predictor: await loadClassifier(process.env.SCONES_BENCH_MODEL), description: `trained artifact ${process.env.SCONES_BENCH_MODEL}` };
  }
  const embedded = join(ROOT, '.scones/s3');
  if (existsSync(join(embedded, 'scones', 'models'))) {
    const s3 = await startLocalS3({ directory: embedded });
    try {
      const client = createS3Client(s3.target);
      const prefix = (await findLatestManifestKey(client, 'scones', 'models/')).slice(0, -'manifest.json'.length);
      const classifier = await loadClassifier({ s3: client, bucket: 'scones', prefix });
      return { predictor: classifier, description: `trained model s3://scones/${prefix} (wasm backend, in the benchmark process)` };
    } catch (error) {
      log(`no usable trained model in ${embedded} (${(error as Error).message}); using the fake predictor`);
    } finally {
      await s3.stop();
    }
  }
  // Confident for about half of the images, so both the pass and the THRESHOLD_CONFIDENCE_NOT_MET path run.
  return {
    predictor: { classNames: ['bicycle', 'motorcycle'], predictImages: async (images) => images.map((i) => (i.data[0] % 2 ? [0.9, 0.1] : [0.6, 0.4])) },
    description: 'a fake predictor that answers at once (no trained model found in .scones/s3): the figures are the workflow\'s own cost',
  };
}

async function main(): Promise<void> {
  const scratch = await workspaceScratch('workflow-bench-');
  const s3Directory = await mkdtemp(join(tmpdir(), 'workflow-bench-s3-'));
  const s3 = await startLocalS3({ directory: s3Directory, buckets: ['scones'] });
  const endpointModel = await predictor();
  const endpoint = createModelServer({ endpointName: ENDPOINT, predictor: endpointModel.predictor });
  try {
    const [bundles, url, images] = await Promise.all([buildBundles(scratch), endpoint.listen(), testImages()]);
    const s3Client = createS3Client(s3.target);
    const keys = images.pngs.map((_, i) => `data/test/${String(i).padStart(3, '0')}.png`);
    await putObjects(s3Client, 'scones', keys.map((key, i) => ({ key, body: images.pngs[i], contentType: 'image/png' })));
    const handlers = loadLocalLambdas({ bundles, target: { ...s3.target, sagemakerRuntimeEndpoint: url }, endpointName: ENDPOINT, threshold: THRESHOLD });
    const options = { functions: LOCAL_FUNCTION_NAMES, notifyTopicArn: LOCAL_NOTIFY_TOPIC_ARN };
    const single = new LocalWorkflowRunner(buildWorkflowDefinition(options), { handlers, s3: s3Client });
    const batchDefault = new LocalWorkflowRunner(buildBatchWorkflowDefinition(options), { handlers, s3: s3Client });
    const batchUnlimited = new LocalWorkflowRunner(buildBatchWorkflowDefinition({ ...options, maxConcurrency: 0 }), { handlers, s3: s3Client });
    log(`${keys.length} images: ${images.source}; endpoint: ${endpointModel.description}`);

    // What the state machine adds: the same three handlers called one after the other.
    const direct = async (key: string) => {
      let payload: unknown = testCase('scones', key);
      for (const name of [LOCAL_FUNCTION_NAMES.serialize, LOCAL_FUNCTION_NAMES.classify, LOCAL_FUNCTION_NAMES.filter]) {
        try {
          payload = JSON.parse(JSON.stringify(await handlers[name](payload, localLambdaContext(name))));
        } catch {
          return; // THRESHOLD_CONFIDENCE_NOT_MET ends the chain, as in the workflow
        }
      }
    };
    for (let i = 0; i < WARMUP; i++) {
      await single.execute(testCase('scones', keys[i]));
      await direct(keys[i]);
    }
    await batchDefault.execute({ s3_bucket: 'scones', s3_prefix: 'data/test/' });

    const rounds: Array<Record<string, number>> = [];
    let passed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const engine: number[] = [];
      const plain: number[] = [];
      for (const key of keys) {
        let t = performance.now();
        const outcome = await single.execute(testCase('scones', key));
        engine.push(performance.now() - t);
        if (outcome.status === 'SUCCEEDED') passed++;
        t = performance.now();
        await direct(key);
        plain.push(performance.now() - t);
      }
      const e = summarizeLatencies(engine)!;
      const d = summarizeLatencies(plain)!;
      let t = performance.now();
      const mapped = await batchDefault.execute({ s3_bucket: 'scones', s3_prefix: 'data/test/' });
      const batchMs = performance.now() - t;
      if (mapped.status !== 'SUCCEEDED' || imageOutcomesOfBatch(mapped).length !== keys.length) throw new Error(`the batch execution did not classify every image: ${mapped.status} ${mapped.error ?? ''}`);
      t = performance.now();
      await batchUnlimited.execute({ s3_bucket: 'scones', s3_prefix: 'data/test/' });
      const batchUnlimitedMs = performance.now() - t;
      t = performance.now();
      await runExecutions(single, keys.map((key) => testCase('scones', key)), { concurrency: 10 });
      const parallelMs = performance.now() - t;
      rounds.push({ p50: e.p50, p99: e.p99, directP50: d.p50, directP99: d.p99, batchMs, batchUnlimitedMs, parallelMs });
      log(`round ${round + 1}: single p50 ${ms(e.p50)} p99 ${ms(e.p99)}; direct p50 ${ms(d.p50)}; Map ${ms(batchMs)} (unlimited ${ms(batchUnlimitedMs)}); 200 singles x10 ${ms(parallelMs)}`);
    }
    const m = (field: string) => median(rounds.map((r) => r[field]));
    const p50 = m('p50');
    const batchSeconds = m('batchMs') / 1000;
    const date = new Date().toISOString();
    const goal = (met: boolean, text: string) => `${met ? 'met' : 'NOT met'}: ${text}`;
    const section = [
      '## State machine on the local runner (`scones run`, libs/workflow)',
      '',
      `Command: \`npx nx run workflow:bench\` (runs \`node tools/run-ts.js libs/workflow/bench/workflow.bench.ts\`) — ${date}`,
      '',
      `End to end with real parts: the exported definitions on aws-local-stepfunctions 3.0, the three Lambda bundles built like \`nx build\`, the embedded S3 (s3rver over HTTP) and the endpoint (@scones/model-server over HTTP, in the benchmark process). Images: ${keys.length} ${images.source}. Endpoint: ${endpointModel.description}. Each round runs every image once through the single-image definition, one after the other (${WARMUP} warm-up executions first); medians of ${ROUNDS} rounds. THRESHOLD ${THRESHOLD}: ${Math.round((passed / (ROUNDS * keys.length)) * 100)} % of the executions passed the filter, the rest took the notify → Fail path.`,
      '',
      '| measure | median of rounds |',
      '|---|---:|',
      `| single-image execution, p50 | ${ms(p50)} |`,
      `| single-image execution, p99 | ${ms(m('p99'))} |`,
      `| the same three handlers called directly (no state machine), p50 | ${ms(m('directP50'))} |`,
      `| the same, p99 | ${ms(m('directP99'))} |`,
      `| what the state machine adds per execution (p50 difference) | ${ms(p50 - m('directP50'))} |`,
      `| ${keys.length} images, one batch execution (Map, MaxConcurrency 10, listing included) | ${ms(m('batchMs'))} |`,
      `| the same, MaxConcurrency 0 (the engine runs 40 at once) | ${ms(m('batchUnlimitedMs'))} |`,
      `| ${keys.length} single executions, 10 at a time | ${ms(m('parallelMs'))} |`,
      '',
      'For scale: a recorded AWS execution of the original workflow took 2.8 s.',
      '',
      'Goals:',
      `- p50 per execution ≤ ${GOALS.p50Ms} ms: ${goal(p50 <= GOALS.p50Ms, `${ms(p50)}${p50 > GOALS.p50Ms ? ` (${Math.round((p50 / GOALS.p50Ms - 1) * 100)} % over)` : ''}`)}`,
      `- the whole test set through the Map definition ≤ ${GOALS.batchSeconds} s: ${goal(batchSeconds <= GOALS.batchSeconds, `${batchSeconds.toFixed(2)} s${batchSeconds > GOALS.batchSeconds ? ` (${Math.round((batchSeconds / GOALS.batchSeconds - 1) * 100)} % over)` : ''}`)}`,
      '',
    ].join('\n');
    process.stdout.write(`${section}\n`);
    const out = join(ROOT, 'dist/bench');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'workflow.md'), section);
    log(`wrote ${join(out, 'workflow.md')}`);
  } finally {
    await endpoint.close();
    endpointModel.predictor.dispose?.();
    await s3.stop();
    await rm(s3Directory, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`workflow bench: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
