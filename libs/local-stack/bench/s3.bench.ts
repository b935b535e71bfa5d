// The stack's S3 (it replaced s3rver 3.7.1, measured side by side before the switch: see
// BENCHMARKS.md of 2026-12-07):
//  - staging 1 202 objects (`scones stage`: 1 200 PNG-sized images + 2 .lst files) with the
//    project's putObjects (JS SDK v3, 16 in flight) into the stack's gateway and S3 service;
//  - GET latency (sequential GetObject of staged images) and LIST latency (ListObjectsV2 of the
//    1 000-key page under data/train/);
//  - the stack alone with 60 000 keys: stack start, first listing (index read from disk), a full
//    paginated listing, one page.
//   node tools/run-ts.js libs/local-stack/bench/s3.bench.ts [--rounds 5] [--big 60000] [--json]
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { putObjects, type ObjectToPut } from '@scones/local-cloud';
import type { S3Service } from '@scones/stack-core';
import { startStack } from '../src/lib/stack';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, big: { type: 'string', default: '60000' }, json: { type: 'boolean', default: false } } });
const ROUNDS = Number(values.rounds);
const BIG = Number(values.big);
const GETS = 300;
const LISTS = 20;

const round = (n: number) => Math.round(n * 100) / 100;
const median = (samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (samples: number[], q: number) => {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** 1 200 PNG-sized bodies (CIFAR PNGs are 2.2–3 KB) and the two manifests, as `scones stage` puts them. */
function stageObjects(): ObjectToPut[] {
  const objects: ObjectToPut[] = [];
  let seed = 1;
  const bytes = (n: number) => {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16;
    return out;
  };
  const lines: string[] = [];
  for (let i = 0; i < 1200; i++) {
    const split = i < 1000 ? 'train' : 'test';
    const key = `data/${split}/img_${String(i).padStart(5, '0')}.png`;
    objects.push({ key, body: bytes(2200 + ((i * 37) % 800)), contentType: 'image/png' });
    lines.push(`${i}\t${i % 2}\t${key.slice(5)}`);
  }
  objects.push({ key: 'data/train.lst', body: lines.slice(0, 1000).join('\n'), contentType: 'text/plain' });
  objects.push({ key: 'data/test.lst', body: lines.slice(1000).join('\n'), contentType: 'text/plain' });
  return objects;
}

/** The project's client configuration: path-style, loopback (any credentials are accepted). */
function client(endpoint: string): S3Client {
  return new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
}

interface Server {
  client: S3Client;
  stop(): Promise<void>;
}

async function startStackS3(directory: string): Promise<Server> {
  const stack = await startStack({ dataDir: directory, port: 0, services: ['s3'] });
  const s3 = client(stack.url);
  await s3.send(new CreateBucketCommand({ Bucket: 'scones' }));
  return { client: s3, stop: () => stack.close() };
}

interface RoundResult {
  stageMs: number;
  stageCpuMs: number;
  getMs: number[];
  listMs: number[];
}

async function oneRound(start: (dir: string) => Promise<Server>, objects: ObjectToPut[]): Promise<RoundResult> {
  const dir = await mkdtemp(join(tmpdir(), 'scones-s3-bench-'));
  const server = await start(dir);
  try {
    const cpu = process.cpuUsage();
    const began = performance.now();
    await putObjects(server.client, 'scones', objects, { concurrency: 16 });
    const stageMs = performance.now() - began;
    const used = process.cpuUsage(cpu);
    const getMs: number[] = [];
    for (let i = 0; i < GETS; i++) {
      const t = performance.now();
      const got = await server.client.send(new GetObjectCommand({ Bucket: 'scones', Key: objects[(i * 7) % 1200].key }));
      await got.Body!.transformToByteArray();
      getMs.push(performance.now() - t);
    }
    const listMs: number[] = [];
    for (let i = 0; i < LISTS; i++) {
      const t = performance.now();
      const page = await server.client.send(new ListObjectsV2Command({ Bucket: 'scones', Prefix: 'data/train/' }));
      if (page.KeyCount !== 1000) throw new Error(`listing returned ${page.KeyCount} keys, expected 1000`);
      listMs.push(performance.now() - t);
    }
    return { stageMs, stageCpuMs: (used.user + used.system) / 1000, getMs, listMs };
  } finally {
    server.client.destroy();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function bigBucket(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'scones-s3-bench-big-'));
  try {
    let stack = await startStack({ dataDir: dir, port: 0, services: ['s3'] });
    const s3 = stack.service<S3Service>('s3') as S3Service;
    await s3.createBucket('big');
    const fillStarted = performance.now();
    let next = 0;
    const body = Buffer.alloc(100, 1);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < BIG) {
          const i = next++;
          await s3.putObject('big', `data/train/${String(i % 100).padStart(2, '0')}/img_${String(i).padStart(6, '0')}.png`, body);
        }
      }),
    );
    const fillMs = performance.now() - fillStarted;
    await stack.close();

    const startBegan = performance.now();
    stack = await startStack({ dataDir: dir, port: 0, services: ['s3'] });
    const startMs = performance.now() - startBegan;
    const sdk = client(stack.url);
    const firstBegan = performance.now();
    await sdk.send(new ListObjectsV2Command({ Bucket: 'big', MaxKeys: 1 }));
    const firstListMs = performance.now() - firstBegan;
    const fullBegan = performance.now();
    let keys = 0;
    for await (const page of paginateListObjectsV2({ client: sdk }, { Bucket: 'big' })) keys += page.KeyCount ?? 0;
    const fullListMs = performance.now() - fullBegan;
    if (keys !== BIG) throw new Error(`full listing returned ${keys} keys, expected ${BIG}`);
    const pageMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await sdk.send(new ListObjectsV2Command({ Bucket: 'big', Prefix: `data/train/${String(i).padStart(2, '0')}/` }));
      pageMs.push(performance.now() - t);
    }
    const delimiterBegan = performance.now();
    const top = await sdk.send(new ListObjectsV2Command({ Bucket: 'big', Prefix: 'data/train/', Delimiter: '/' }));
    const delimiterMs = performance.now() - delimiterBegan;
    if (top.CommonPrefixes?.length !== 100) throw new Error(`expected 100 common prefixes, got ${top.CommonPrefixes?.length}`);
    sdk.destroy();
    await stack.close();
    // As after a crash: no index snapshot, so the first listing reads every object's header.
    await rm(join(dir, 's3', 'buckets', 'big', 'index.json'));
    stack = await startStack({ dataDir: dir, port: 0, services: ['s3'] });
    const crashBegan = performance.now();
    await (stack.service<S3Service>('s3') as S3Service).listObjects('big', { maxKeys: 1 });
    const firstListAfterCrashMs = performance.now() - crashBegan;
    await stack.close();
    return { keys: BIG, fillMs, startMs, firstListMs, firstListAfterCrashMs, fullListMs, pages: Math.ceil(BIG / 1000), pageP50Ms: median(pageMs), delimiterMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const objects = stageObjects();
  const rounds: RoundResult[] = [];
  await oneRound(startStackS3, objects); // warm-up (module loading, JIT), not counted
  for (let r = 0; r < ROUNDS; r++) rounds.push(await oneRound(startStackS3, objects));
  const gets = rounds.flatMap((r) => r.getMs);
  const lists = rounds.flatMap((r) => r.listMs);
  const stack = {
    stageMs: round(median(rounds.map((r) => r.stageMs))),
    stageCpuMs: round(median(rounds.map((r) => r.stageCpuMs))),
    objectsPerSecond: Math.round(objects.length / (median(rounds.map((r) => r.stageMs)) / 1000)),
    getP50Ms: round(quantile(gets, 0.5)),
    getP99Ms: round(quantile(gets, 0.99)),
    listP50Ms: round(quantile(lists, 0.5)),
    listP99Ms: round(quantile(lists, 0.99)),
  };
  const big = BIG > 0 ? await bigBucket() : undefined;
  const report = { date: new Date().toISOString(), cpu: cpus()[0]?.model, node: process.version, rounds: ROUNDS, objects: objects.length, stack, big };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const lines = [
    '## S3 on the stack (libs/local-stack/bench/s3.bench.ts)',
    '',
    `\`node tools/run-ts.js libs/local-stack/bench/s3.bench.ts --rounds ${ROUNDS}\` — ${report.date}, ${report.cpu}, Node ${report.node}. Medians of ${ROUNDS} rounds; client and server share the process (CPU = the whole process).`,
    '',
    `| stage ${objects.length} objects, ms | stage CPU, ms | objects/s | GET p50 / p99, ms | LIST 1000 keys p50 / p99, ms |`,
    '| ---: | ---: | ---: | ---: | ---: |',
    `| ${stack.stageMs} | ${stack.stageCpuMs} | ${stack.objectsPerSecond} | ${stack.getP50Ms} / ${stack.getP99Ms} | ${stack.listP50Ms} / ${stack.listP99Ms} |`,
  ];
  if (big) {
    lines.push(
      '',
      `${big.keys} keys in one bucket: filled in ${Math.round(big.fillMs)} ms (in-process putObject, 16 at once); stack start ${round(big.startMs)} ms (no object read);`,
      `first listing ${Math.round(big.firstListMs)} ms (index from the snapshot of the clean close), ${Math.round(big.firstListAfterCrashMs)} ms after a crash (no snapshot: ${big.keys} object headers read);`,
      `full paginated listing through the JS SDK (${big.pages} pages) ${Math.round(big.fullListMs)} ms;`,
      `one 600-key prefix page p50 ${round(big.pageP50Ms)} ms; delimiter listing rolling ${big.keys} keys into 100 prefixes ${round(big.delimiterMs)} ms.`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`s3 bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
