// Benchmark of the model endpoint: latency with 1 and 4 clients, throughput at 32 connections, and
// 200 connections with /ping timed beside them, with data capture on (embedded S3), real 32x32
// CIFAR PNGs, and a real model artifact. The server (bench-server.ts) and the load generators
// (load-client.ts) each run in their own process over loopback. Side by side in one run: the
// server as of SCONES_BENCH_BASELINE (a git ref, default the commit before the issue 17/18 work;
// `none` skips it), and today's server with the model on the HTTP thread, on 1 and on 2 inference
// worker threads (capture spooled locally), plus the server alone (a stand-in model). Then hostile
// input: the 68-byte PNG bomb of issue 17, timed, with the server's peak memory.
//   node tools/run-ts.js libs/model-server/bench/model-server.bench.ts     (= npx nx run model-server:bench)
// SCONES_BENCH_MODEL=<artifact dir> serves that model; otherwise the newest models/<job>/ of the
// embedded S3 in .scones/s3, else the full training preset's network, untrained (same compute).
// SCONES_BENCH_ONLY=baseline,in-thread,one-worker,two-workers,server-only,baseline-server-only runs only those.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { crc32, deflateSync } from 'node:zlib';
import { encodeCifarRowPng, readCifarArchive, ROW_BYTES } from '@scones/cifar-decoder';
import { encodePng, initBackend, loadArtifactModel, readManifest, saveArtifact, TRAINING_PRESETS } from '@scones/image-classifier';
import { createS3Client, listObjects } from '@scones/local-cloud';
import { startLocalS3 } from '@scones/stack-core/testing';
import { findLatestManifestKey } from '@scones/monitor-analytics';
import type { ModelManifest } from '@scones/payload-schemas';
import type { ModelServerStats } from '../src';
import { writeFixtureArtifact } from '@scones/image-classifier/testing';

const run = promisify(execFile);
const ROOT = process.env.SCONES_ROOT ?? process.cwd();
const CIFAR = '/work/shared/data/cifar-100-python-bicycle-motorcycle.tar.gz';
const REPEATS = 3;
/** Issue 18 (serving, capture on) and issue 17.8 (200 connections). */
const GOALS = { p50At1: 2, p99At1: 8, p99At4: 15, rpsAt32: 900, tailRatioAt200: 4, maxAt200: 2000, pingMaxAt200: 50 };
/** The server before the issue 17/18 work (commit 6a25e6f). */
const DEFAULT_BASELINE = '6a25e6f';

interface ClientResult {
  mode: string;
  concurrency: number;
  requests: number;
  ok: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
}

interface ServerInfo {
  url: string;
  backend: { name: string; threads: number; simd?: boolean; threadsFallback?: string };
  times: { singleMs: number; batch32PerImageMs: number };
  job: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number, digits = 2) => x.toFixed(digits);
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** 200 real CIFAR-100 test images (bicycle, motorcycle) as PNG files, or synthetic ones without the archive. */
async function writeImages(dir: string): Promise<{ source: string; count: number; bytes: number }> {
  await mkdir(dir, { recursive: true });
  let pngs: Buffer[];
  let source: string;
  if (existsSync(CIFAR)) {
    const archive = await readCifarArchive(CIFAR);
    const rows = Math.min(200, archive.test.data.length / ROW_BYTES);
    pngs = Array.from({ length: rows }, (_, row) => encodeCifarRowPng(archive.test.data, row));
    source = `real CIFAR-100 test images (${CIFAR.split('/').pop()})`;
  } else {
    pngs = Array.from({ length: 200 }, (_, n) => encodePng({ width: 32, height: 32, data: new Uint8Array(32 * 32 * 3).map((_, i) => (i * 31 + n * 17 + ((i * n) % 13)) % 256) }));
    source = 'synthetic 32x32 PNGs (the CIFAR archive was not found)';
  }
  await Promise.all(pngs.map((png, i) => writeFile(join(dir, `${String(i).padStart(3, '0')}.png`), png)));
  return { source, count: pngs.length, bytes: Math.round(pngs.reduce((a, p) => a + p.length, 0) / pngs.length) };
}

/** The artifact directory to serve and how to describe it. */
async function modelDirectory(work: string): Promise<{ dir: string; description: string }> {
  if (process.env.SCONES_BENCH_MODEL) return { dir: process.env.SCONES_BENCH_MODEL, description: `trained artifact ${process.env.SCONES_BENCH_MODEL}` };
  const embedded = join(ROOT, '.scones/s3');
  if (existsSync(join(embedded, 'scones', 'models'))) {
    const s3 = await startLocalS3({ directory: embedded });
    try {
      const client = createS3Client(s3.target);
      const key = await findLatestManifestKey(client, 'scones', 'models/');
      const prefix = key.slice(0, -'manifest.json'.length);
      const dir = join(work, 'model');
      // Copied to disk, so every server process loads it the same way.
      const manifest = await copyArtifact(client, prefix, dir);
      return { dir, description: `trained model s3://scones/${prefix} (job ${manifest.jobName}, test accuracy ${manifest.test?.accuracy ?? 'not recorded'})` };
    } catch (error) {
      log(`no trained model in ${embedded} (${(error as Error).message}); using the untrained network`);
    } finally {
      await s3.stop();
    }
  }
  const dir = join(work, 'model');
  await writeFixtureArtifact(dir, { size: 'full', jobName: 'bench-untrained' });
  return { dir, description: `the full training preset's network (${TRAINING_PRESETS.full.architecture}, widths ${TRAINING_PRESETS.full.widths.join('/')}), untrained — no trained model was found; same computation per image` };
}

async function copyArtifact(client: S3Client, prefix: string, dir: string): Promise<ModelManifest> {
  const location = { s3: client, bucket: 'scones', prefix };
  const manifest = await readManifest(location);
  await initBackend();
  const model = await loadArtifactModel(location, manifest);
  try {
    await saveArtifact({ model, manifest: { ...manifest, modelPath: 'model.json' } }, dir);
  } finally {
    model.dispose();
  }
  return manifest;
}

async function client(mode: 'latency' | 'throughput' | 'ping', url: string, concurrency: number, seconds: number, pngDir: string, options: { allowErrors?: boolean } = {}): Promise<ClientResult> {
  const { stdout } = await run(process.execPath, [join(ROOT, 'tools/run-ts.js'), join(ROOT, 'libs/model-server/bench/load-client.ts'), mode, url, String(concurrency), String(seconds), pngDir], {
    maxBuffer: 1e7,
    timeout: (seconds + 60) * 1000,
  });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as ClientResult;
  if (result.errors && !options.allowErrors) throw new Error(`${result.errors} failed requests in a ${mode} run with ${concurrency}`);
  return result;
}

/** CPU time a process has used so far (all its threads, user + system), in ms (Linux). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}

/** Peak and current resident memory of a process, in MB (Linux). */
function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

interface RunningServer {
  pid: number;
  info: ServerInfo;
  snapshot(): Promise<ModelServerStats>;
  stop(): Promise<ModelServerStats>;
}

/** Starts a bench server script; resolves once it serves. `stop()` sends SIGTERM and returns its final stats. */
async function startServer(script: string, options: object): Promise<RunningServer> {
  const child = spawn(process.execPath, [join(ROOT, 'tools/run-ts.js'), script, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SCONES_TFJS_THREADS: '0', SCONES_LOG_LEVEL: 'warn' },
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error('the bench server exited early');
    return JSON.parse(line.value);
  };
  const info = (await next()) as ServerInfo;
  return {
    pid: child.pid!,
    info,
    async snapshot() {
      child.kill('SIGUSR2');
      return ((await next()) as { stats: ModelServerStats }).stats;
    },
    async stop() {
      child.kill('SIGTERM');
      return ((await next()) as { stats: ModelServerStats }).stats;
    },
  };
}

/** The files of libs/model-server at a git ref, written to a directory; returns its bench-server.ts. */
async function materialiseBaseline(ref: string, work: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', ['ls-tree', '-r', '--name-only', ref, 'libs/model-server/src', 'libs/model-server/bench'], { cwd: ROOT });
    const files = stdout.split('\n').filter((f) => f.endsWith('.ts'));
    for (const file of files) {
      const { stdout: text } = await run('git', ['show', `${ref}:${file}`], { cwd: ROOT, maxBuffer: 1e8 });
      await mkdir(join(work, 'baseline', file, '..'), { recursive: true });
      await writeFile(join(work, 'baseline', file), text);
    }
    return join(work, 'baseline/libs/model-server/bench/bench-server.ts');
  } catch (error) {
    log(`no baseline (${ref}): ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

async function countCapture(s3: S3Client, endpointName: string): Promise<{ records: number; distinct: number; files: number }> {
  const objects = await listObjects(s3, 'scones', `data_capture/${endpointName}/`);
  const ids = new Set<string>();
  let records = 0;
  for (const key of objects.keys()) {
    const body = await (await s3.send(new GetObjectCommand({ Bucket: 'scones', Key: key }))).Body!.transformToString();
    for (const line of body.trimEnd().split('\n')) {
      records++;
      ids.add(JSON.parse(line).eventMetadata.eventId);
    }
  }
  return { records, distinct: ids.size, files: objects.size };
}

/** The 68-byte PNG of issue 17.1: IHDR 20000x20000 RGB over 10 deflated zero bytes. */
function pngBomb(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20000, 0);
  ihdr.writeUInt32BE(20000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(10))), chunk('IEND', Buffer.alloc(0))]);
}

interface Phase {
  p50: number;
  p99: number;
  max: number;
  rps: number;
  errors: number;
}

interface ConfigResult {
  name: string;
  label: string;
  info: ServerInfo;
  latency: Record<number, Phase>;
  throughput?: Phase & { meanBatch: number; largestBatch: number; cpuMsPerRequest: number };
  crowd?: Phase & { ping: Phase };
  bomb?: { status: number; ms: number[]; peakGrowthMb: number };
  served: number;
  capture: { records: number; distinct: number; files: number };
  /** Served requests without exactly one capture record, plus duplicate records. */
  lost: number;
}

const med = (runs: ClientResult[]): Phase => ({
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  max: Math.max(...runs.map((r) => r.max)),
  rps: median(runs.map((r) => r.rps)),
  errors: runs.reduce((a, r) => a + r.errors, 0),
});

interface Config {
  name: string;
  label: string;
  script: string;
  workers: number;
  spool: boolean;
  nullModel?: boolean;
  latencyClients: number[];
  crowd: boolean;
  bomb: boolean;
}

/**
 * Benchmarks the configurations side by side: every server runs from the start, and each phase
 * runs its repeats round-robin over the servers (A B C, A B C, ...), so load from elsewhere on a
 * shared machine falls on all of them alike.
 */
async function benchConfigs(configs: Config[], setup: { modelDir: string; s3Endpoint: string; pngDir: string }, s3: S3Client): Promise<ConfigResult[]> {
  const servers: RunningServer[] = [];
  for (const c of configs) {
    const server = await startServer(c.script, { modelDir: setup.modelDir, endpointName: c.name, maxBatchSize: 32, s3Endpoint: setup.s3Endpoint, pngDir: setup.pngDir, nullModel: c.nullModel, workers: c.workers, spool: c.spool });
    servers.push(server);
    const backend = server.info.backend;
    log(`${c.name}: ${backend.name} backend, ${backend.threads} wasm thread(s), SIMD ${backend.simd ?? 'not reported'}; model ${fmt(server.info.times.singleMs)} ms per image alone, ${fmt(server.info.times.batch32PerImageMs)} ms in a batch of 32`);
  }
  const urlOf = (i: number) => `${servers[i].info.url}/endpoints/${configs[i].name}/invocations`;
  const each = async (want: (c: Config) => boolean, repeats: number, run: (i: number) => Promise<void>) => {
    for (let r = 0; r < repeats; r++) for (let i = 0; i < configs.length; i++) if (want(configs[i])) await run(i);
  };
  await each(() => true, 1, async (i) => void (await client('latency', urlOf(i), 2, 2, setup.pngDir))); // warm-up
  const latencyRuns = configs.map(() => new Map<number, ClientResult[]>());
  for (const clients of [1, 4]) {
    await each(
      (c) => c.latencyClients.includes(clients),
      REPEATS,
      async (i) => {
        const runs = latencyRuns[i].get(clients) ?? [];
        runs.push(await client('latency', urlOf(i), clients, 3, setup.pngDir));
        latencyRuns[i].set(clients, runs);
      },
    );
    configs.forEach((c, i) => {
      const runs = latencyRuns[i].get(clients);
      if (runs) log(`${c.name}: ${clients} client(s): p50 ${fmt(med(runs).p50)} ms, p99 ${fmt(med(runs).p99)} ms`);
    });
  }
  const throughputRuns = configs.map(() => [] as ClientResult[]);
  const cpu = configs.map(() => ({ ms: 0, served: 0 }));
  const batchesBefore = await Promise.all(servers.map((s) => s.snapshot()));
  await each(
    () => true,
    REPEATS,
    async (i) => {
      const [before, cpuBefore] = [await servers[i].snapshot(), cpuMsOf(servers[i].pid)];
      throughputRuns[i].push(await client('throughput', urlOf(i), 32, 5, setup.pngDir));
      const [after, cpuAfter] = [await servers[i].snapshot(), cpuMsOf(servers[i].pid)];
      cpu[i].ms += cpuAfter - cpuBefore;
      cpu[i].served += (after.responses['200'] ?? 0) - (before.responses['200'] ?? 0);
    },
  );
  const batchesAfter = await Promise.all(servers.map((s) => s.snapshot()));
  const crowds: Array<ConfigResult['crowd']> = configs.map(() => undefined);
  await each(
    (c) => c.crowd,
    1,
    async (i) => {
      const [load, ping] = await Promise.all([client('throughput', urlOf(i), 200, 8, setup.pngDir, { allowErrors: true }), client('ping', servers[i].info.url, 1, 8, setup.pngDir, { allowErrors: true })]);
      crowds[i] = { ...med([load]), ping: med([ping]) };
      log(`${configs[i].name}: 200 connections: ${fmt(load.rps, 0)} req/s, p50 ${load.p50} ms, p99 ${load.p99} ms, max ${load.max} ms, ${load.errors} errors; /ping p50 ${fmt(ping.p50)} ms, max ${fmt(ping.max)} ms`);
    },
  );
  const bombs: Array<ConfigResult['bomb']> = configs.map(() => undefined);
  await each(
    (c) => c.bomb,
    1,
    async (i) => {
      const body = pngBomb();
      const peak = memoryOf(servers[i].pid).peakMb;
      const ms: number[] = [];
      let status = 0;
      for (let k = 0; k < 5; k++) {
        const t0 = performance.now();
        const answer = await fetch(urlOf(i), { method: 'POST', body, headers: { 'content-type': 'image/png' } });
        await answer.text();
        ms.push(performance.now() - t0);
        status = answer.status;
      }
      bombs[i] = { status, ms, peakGrowthMb: memoryOf(servers[i].pid).peakMb - peak };
      log(`${configs[i].name}: PNG bomb answered ${status} in ${ms.map((m) => fmt(m, 1)).join(', ')} ms; peak memory +${fmt(bombs[i]!.peakGrowthMb, 1)} MB`);
    },
  );
  const results: ConfigResult[] = [];
  for (const [i, c] of configs.entries()) {
    const stats = await servers[i].stop();
    const served = stats.responses['200'] ?? 0;
    const capture = await countCapture(s3, c.name);
    const [before, after] = [batchesBefore[i].batching!, batchesAfter[i].batching!];
    const throughput = {
      ...med(throughputRuns[i]),
      meanBatch: (after.images - before.images) / Math.max(1, after.batches - before.batches),
      largestBatch: after.largestBatch,
      // CPU time per request of the server process (HTTP thread and workers), all 32-connection runs.
      cpuMsPerRequest: cpu[i].ms / Math.max(1, cpu[i].served),
    };
    log(`${c.name}: 32 connections: ${fmt(throughput.rps, 0)} req/s, p50 ${throughput.p50} ms, p99 ${throughput.p99} ms; server CPU ${fmt(throughput.cpuMsPerRequest, 3)} ms per request`);
    const latency: ConfigResult['latency'] = {};
    for (const [clients, runs] of latencyRuns[i]) latency[clients] = med(runs);
    results.push({ name: c.name, label: c.label, info: servers[i].info, latency, throughput, crowd: crowds[i], bomb: bombs[i], served, capture, lost: Math.abs(served - capture.distinct) + (capture.records - capture.distinct) });
  }
  return results;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'scones-bench-model-server-'));
  const s3Server = await startLocalS3({ directory: join(work, 's3') });
  try {
    const s3 = createS3Client(s3Server.target);
    const pngDir = join(work, 'png');
    const images = await writeImages(pngDir);
    const model = await modelDirectory(work);
    log(`model: ${model.description}`);
    const current = join(ROOT, 'libs/model-server/bench/bench-server.ts');
    const baselineRef = process.env.SCONES_BENCH_BASELINE ?? DEFAULT_BASELINE;
    const baselineScript = baselineRef === 'none' ? undefined : await materialiseBaseline(baselineRef, work);
    const only = process.env.SCONES_BENCH_ONLY?.split(',').map((c) => c.trim());
    const full = { latencyClients: [1, 4], crowd: true, bomb: false };
    const candidates: Array<Config & { key: string }> = [
      ...(baselineScript ? [{ key: 'baseline', name: 'bench-baseline', label: `server at ${baselineRef} (model on the HTTP thread, no spool)`, script: baselineScript, workers: 0, spool: false, ...full }] : []),
      { key: 'in-thread', name: 'bench-in-thread', label: 'model on the HTTP thread, spool on', script: current, workers: 0, spool: true, ...full },
      { key: 'one-worker', name: 'bench-one-worker', label: '1 inference worker, spool on', script: current, workers: 1, spool: true, ...full, bomb: true },
      { key: 'two-workers', name: 'bench-two-workers', label: '2 inference workers, spool on', script: current, workers: 2, spool: true, ...full },
      { key: 'server-only', name: 'bench-server-only', label: 'the server alone (a stand-in model that answers at once), spool on', script: current, workers: 0, spool: true, nullModel: true, latencyClients: [1], crowd: false, bomb: false },
      ...(baselineScript
        ? [{ key: 'baseline-server-only', name: 'bench-baseline-server-only', label: `the server alone at ${baselineRef}`, script: baselineScript, workers: 0, spool: false, nullModel: true, latencyClients: [1], crowd: false, bomb: false }]
        : []),
    ];
    const configs = await benchConfigs(
      candidates.filter((c) => !only || only.includes(c.key)),
      { modelDir: model.dir, s3Endpoint: s3Server.endpoint, pngDir },
      s3,
    );
    const measured = configs.filter((c) => !c.name.endsWith('server-only'));
    if (measured.length === 0) throw new Error('SCONES_BENCH_ONLY: choose at least one configuration with a model');
    const goal = (ok: boolean, text: string) => `**${ok ? 'met' : 'not met'}** (${text})`;
    const cell = (x: number | undefined, digits = 2) => (x === undefined || Number.isNaN(x) ? '–' : fmt(x, digits));
    const best = measured.filter((c) => c.name !== 'bench-baseline');
    const by = (score: (c: ConfigResult) => number) => best.reduce((a, b) => (score(b) < score(a) ? b : a));
    const at1 = by((c) => c.latency[1].p99);
    const at4 = by((c) => c.latency[4].p99);
    const rps = by((c) => -(c.throughput?.rps ?? 0));
    const crowdBest = by((c) => c.crowd!.p99 / c.crowd!.p50 + c.crowd!.max / 1000 + c.crowd!.ping.max / 50);
    const crowdOf = (c: ConfigResult) => c.crowd!;
    const bombConfig = configs.find((c) => c.bomb);
    const lost = configs.reduce((a, c) => a + c.lost, 0);
    const markdown = [
      '## Model endpoint (libs/model-server)',
      '',
      `Command: \`npx nx run model-server:bench\` (\`node tools/run-ts.js libs/model-server/bench/model-server.bench.ts\`) · ${new Date().toISOString().slice(0, 10)}`,
      '',
      `Each configuration is its own server process, all running at once; every phase runs its repeats round-robin over them, so load from elsewhere falls on all alike. The endpoint (node:http, SageMaker Runtime API \`POST /endpoints/{name}/invocations\`, data capture on: Model Monitor JSONL to the embedded S3, written every second) in its own process, loaded over loopback from other processes: latency by keep-alive clients timing each request (closed loop), throughput by autocannon, /ping every 10 ms from a third process during the 200-connection run. Inputs: ${images.count} ${images.source}, ${images.bytes} bytes on average. Model: ${model.description}, TensorFlow.js wasm backend, one wasm thread per model instance. Latency and 32-connection figures are medians of ${REPEATS} runs (max: the largest of all runs); 200 connections: one 8 s run.`,
      '',
      '| server | model ms/image alone / in a batch of 32 | 1 client p50 / p99 ms | 4 clients p50 / p99 ms | 32 conn. req/s | 32 conn. p50 / p99 ms | mean batch | server CPU ms per request (32 conn.) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...configs.map((c) => {
        const t = c.throughput!;
        const l4 = c.latency[4];
        return `| ${c.label} | ${fmt(c.info.times.singleMs)} / ${fmt(c.info.times.batch32PerImageMs)} | ${fmt(c.latency[1].p50)} / ${fmt(c.latency[1].p99)} | ${l4 ? `${fmt(l4.p50)} / ${fmt(l4.p99)}` : '–'} | ${fmt(t.rps, 0)} | ${t.p50} / ${t.p99} | ${fmt(t.meanBatch, 1)} | ${fmt(t.cpuMsPerRequest, 3)} |`;
      }),
      '',
      '| 200 connections | req/s | p50 ms | p99 ms | max ms | p99 / p50 | errors (timeouts) | /ping p50 / p99 / max ms |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...measured.map((c) => {
        const k = crowdOf(c);
        return `| ${c.label} | ${fmt(k.rps, 0)} | ${k.p50} | ${k.p99} | ${k.max} | ${fmt(k.p99 / k.p50, 1)} | ${k.errors} | ${cell(k.ping.p50)} / ${cell(k.ping.p99)} / ${cell(k.ping.max)} |`;
      }),
      '',
      '| data capture | served (200) | capture records | distinct event ids | files | missing or duplicated |',
      '|---|---:|---:|---:|---:|---:|',
      ...configs.map((c) => `| ${c.name} | ${c.served} | ${c.capture.records} | ${c.capture.distinct} | ${c.capture.files} | ${c.lost} |`),
      '',
      bombConfig?.bomb
        ? `Hostile input (issue 17.1), ${bombConfig.label}: the 68-byte PNG whose header claims 20000×20000 pixels answered ${bombConfig.bomb.status} in ${bombConfig.bomb.ms.map((m) => fmt(m, 1)).join(', ')} ms (5 requests); the server's peak resident memory grew by ${fmt(bombConfig.bomb.peakGrowthMb, 1)} MB.`
        : '',
      '',
      `Goals (issue 18, capture on; best of today's configurations): 1 client p50 ≤ ${GOALS.p50At1} ms ${goal(at1.latency[1].p50 <= GOALS.p50At1, `${fmt(at1.latency[1].p50)} ms, ${at1.label}`)}, p99 ≤ ${GOALS.p99At1} ms ${goal(at1.latency[1].p99 <= GOALS.p99At1, `${fmt(at1.latency[1].p99)} ms`)}; 4 clients p99 ≤ ${GOALS.p99At4} ms ${goal(at4.latency[4].p99 <= GOALS.p99At4, `${fmt(at4.latency[4].p99)} ms, ${at4.label}`)}; ≥ ${GOALS.rpsAt32} req/s at 32 connections ${goal(rps.throughput!.rps >= GOALS.rpsAt32, `${fmt(rps.throughput!.rps, 0)} req/s, ${rps.label}`)}.`,
      `Goals (issue 17.8, 200 connections, ${crowdBest.label}): p99 ≤ ${GOALS.tailRatioAt200}× p50 ${goal(crowdOf(crowdBest).p99 <= GOALS.tailRatioAt200 * crowdOf(crowdBest).p50, `${fmt(crowdOf(crowdBest).p99 / crowdOf(crowdBest).p50, 1)}×`)}; no request over 2 s ${goal(crowdOf(crowdBest).max <= GOALS.maxAt200 && crowdOf(crowdBest).errors === 0, `max ${crowdOf(crowdBest).max} ms, ${crowdOf(crowdBest).errors} errors`)}; /ping within ${GOALS.pingMaxAt200} ms throughout ${goal(crowdOf(crowdBest).ping.max <= GOALS.pingMaxAt200, `max ${fmt(crowdOf(crowdBest).ping.max)} ms`)}. 0 lost capture records ${goal(lost === 0, `${lost} missing or duplicated of ${configs.reduce((a, c) => a + c.served, 0)} served`)}.`,
      '',
    ].join('\n');
    process.stdout.write(`${markdown}\n`);
    await mkdir(join(ROOT, 'dist/bench'), { recursive: true });
    await writeFile(join(ROOT, 'dist/bench/model-server.md'), markdown);
    log(`wrote ${join(ROOT, 'dist/bench/model-server.md')}`);
  } finally {
    await s3Server.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`model-server bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
