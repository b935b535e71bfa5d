// SageMaker benchmark of the local stack (issue 15):
//   node tools/run-ts.js libs/local-stack/bench/sagemaker.bench.ts [--rounds 3] [--seconds 5] [--model tiny|full] [--startups 3] [--markdown out.md]
// 1. InvokeEndpoint through the stack's gateway vs straight to the endpoint's model server, side by
//    side in one run (rotating order each round): latency at 1 client, throughput at 32
//    connections; plus the CPU each request costs the stack process and the endpoint process.
//    A third target, a bare 20-line node:http proxy in the stack's process, shows what any
//    loopback HTTP hop costs on this machine (the floor for the gateway's figures).
// 2. `scones up` with one InService endpoint: a fresh process starts the stack on the data
//    directory and invokes the endpoint once (its model is served again, not fetched).
import { execFile } from 'node:child_process';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, SageMakerClient, waitUntilEndpointInService } from '@aws-sdk/client-sagemaker';
import { encodePng } from '@scones/image-classifier';
import { writeFixtureArtifact } from '@scones/image-classifier/testing';
import { startStack, type LocalStack } from '../src/index';
import { packModelTarball } from '../src/lib/sagemaker/model-data';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../..');
const ENDPOINT = 'bench-endpoint';
const CLOCK_TICKS_PER_SECOND = 100;

interface LoadResult {
  connections: number;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  statuses: Record<string, number>;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** CPU time (ms) a process has used, from /proc (Linux). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

function selfCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function load(url: string, connections: number, seconds: number, bodyFile: string): Promise<LoadResult> {
  const { stdout } = await run(process.execPath, [join(ROOT, 'tools/run-ts.js'), join(ROOT, 'libs/local-stack/bench/sagemaker-load-client.ts'), url, String(connections), String(seconds), bodyFile], {
    env: { ...process.env },
  });
  return JSON.parse(stdout.trim()) as LoadResult;
}

async function deploy(stack: LocalStack, size: 'tiny' | 'full', scratch: string): Promise<void> {
  const config = { endpoint: stack.url, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, forcePathStyle: true };
  const s3 = new S3Client(config);
  const sagemaker = new SageMakerClient(config);
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  await writeFixtureArtifact(join(scratch, 'model'), { size });
  await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'model/model.tar.gz', Body: await packModelTarball(join(scratch, 'model')) }));
  await sagemaker.send(
    new CreateModelCommand({
      ModelName: 'bench-model',
      ExecutionRoleArn: 'arn:aws:iam::000000000000:role/bench',
      PrimaryContainer: { Image: '811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1', ModelDataUrl: 's3://bench/model/model.tar.gz' },
    }),
  );
  await sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: 'bench-config',
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'bench-model', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }],
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 100,
        DestinationS3Uri: 's3://bench/data_capture',
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
      },
    }),
  );
  await sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'bench-config' }));
  await waitUntilEndpointInService({ client: sagemaker, minDelay: 1, maxDelay: 1, maxWaitTime: 300 }, { EndpointName: ENDPOINT });
  s3.destroy();
  sagemaker.destroy();
}

/** The section BENCHMARKS.md shows (the JSON on stdout has every figure). */
function markdown(s: {
  date: string;
  cpu: string;
  model: string;
  rounds: number;
  secondsPerPhase: number;
  latency1: Record<string, number>;
  throughput32: Record<string, number>;
  stackCpuUsPerRequest: Record<string, number>;
  startup: Record<string, unknown>;
}): string {
  const l = s.latency1;
  const t = s.throughput32;
  return [
    '## SageMaker Runtime through the local stack (`libs/local-stack/bench/sagemaker.bench.ts`)',
    '',
    `${s.date}, ${s.cpu}, ${s.model} model, medians of ${s.rounds} rounds of ${s.secondsPerPhase} s per target (order rotated each round).`,
    '',
    '| | direct to the model server | bare node:http proxy | stack gateway |',
    '|---|---|---|---|',
    `| p50 at 1 client | ${l.directP50Ms} ms | ${l.bareProxyP50Ms} ms (+${l.bareProxyAddedP50Ms}) | ${l.gatewayP50Ms} ms (+${l.addedP50Ms}) |`,
    `| req/s at 32 connections | ${t.directRps} | ${t.bareProxyRps} (${t.bareProxyRatio}) | ${t.gatewayRps} (${t.ratio}) |`,
    `| stack process CPU per request | ${s.stackCpuUsPerRequest.direct} µs | ${s.stackCpuUsPerRequest.bareProxy} µs | ${s.stackCpuUsPerRequest.gateway} µs |`,
    '',
    `\`scones up\` with one InService endpoint (fresh process, median of ${String(s.startup.runs)}): ready ${String(s.startup.processToReadyMs)} ms after the process started (startStack ${String(s.startup.startStackMs)} ms), first answer at ${String(s.startup.processToFirstInvokeMs)} ms.`,
    '',
  ].join('\n');
}

/** The smallest keep-alive proxy node:http allows: the floor of what a loopback hop costs. */
async function bareProxy(port: number): Promise<Server> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const upstream = request({ agent, host: '127.0.0.1', port, method: 'POST', path: req.url, headers: { 'content-type': req.headers['content-type'] ?? '', 'content-length': body.length } }, (answer) => {
        const out: Buffer[] = [];
        answer.on('data', (c: Buffer) => out.push(c));
        answer.on('end', () => res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? '' }).end(Buffer.concat(out)));
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '5' },
      model: { type: 'string', default: 'tiny' },
      startups: { type: 'string', default: '3' },
      markdown: { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const size = values.model === 'full' ? 'full' : 'tiny';
  const scratch = await mkdtemp(join(tmpdir(), 'scones-sm-bench-'));
  const dataDir = join(scratch, 'data');
  const bodyFile = join(scratch, 'image.png');
  const pixels = new Uint8Array(32 * 32 * 3).map((_, i) => (i * 37) % 256);
  await writeFile(bodyFile, encodePng({ width: 32, height: 32, data: pixels }));
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  process.stderr.write(`sagemaker bench: ${new Date().toISOString()}, ${cpuModel}, model ${size}, ${rounds} rounds of ${seconds} s\n`);

  const stack = await startStack({ dataDir, port: 0, services: ['s3', 'logs', 'sagemaker', 'sagemaker-runtime'] });
  try {
    await deploy(stack, size, scratch);
    const endpoint = ((await stack.status()).services.sagemaker as { endpoints: Array<{ name: string; port?: number; pid?: number }> }).endpoints[0];
    if (!endpoint.port || !endpoint.pid) throw new Error('the endpoint does not serve');
    const bare = await bareProxy(endpoint.port);
    type Target = 'direct' | 'bare' | 'gateway';
    const targets: Record<Target, string> = {
      direct: `http://127.0.0.1:${endpoint.port}/endpoints/${ENDPOINT}/invocations`,
      bare: `http://127.0.0.1:${(bare.address() as AddressInfo).port}/endpoints/${ENDPOINT}/invocations`,
      gateway: `${stack.url}/endpoints/${ENDPOINT}/invocations`,
    };
    type Row = { round: number; target: Target; connections: number; result: LoadResult; stackCpuUsPerRequest: number; endpointCpuUsPerRequest: number };
    const rows: Row[] = [];
    const rotations: Target[][] = [
      ['direct', 'gateway', 'bare'],
      ['gateway', 'bare', 'direct'],
      ['bare', 'direct', 'gateway'],
    ];
    for (let round = 1; round <= rounds; round++) {
      const order = rotations[(round - 1) % rotations.length];
      for (const connections of [1, 32]) {
        for (const target of order) {
          const stackBefore = selfCpuMs();
          const endpointBefore = processCpuMs(endpoint.pid);
          const result = await load(targets[target], connections, seconds, bodyFile);
          const requests = Math.max(1, result.requests);
          rows.push({
            round,
            target,
            connections,
            result,
            stackCpuUsPerRequest: Math.round(((selfCpuMs() - stackBefore) * 1000) / requests),
            endpointCpuUsPerRequest: Math.round(((processCpuMs(endpoint.pid) - endpointBefore) * 1000) / requests),
          });
          process.stderr.write(
            `  round ${round} ${target.padEnd(7)} ${String(connections).padStart(2)} conn: ${String(result.rps).padStart(5)} req/s, p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms, ` +
              `stack CPU ${rows.at(-1)!.stackCpuUsPerRequest} µs/req, endpoint CPU ${rows.at(-1)!.endpointCpuUsPerRequest} µs/req, statuses ${JSON.stringify(result.statuses)}\n`,
          );
        }
      }
    }
    bare.close();
    const pick = (target: Target, connections: number) => rows.filter((r) => r.target === target && r.connections === connections);
    const perRound = (connections: number, f: (other: Row, direct: Row) => number, other: Target = 'gateway') =>
      Array.from({ length: rounds }, (_, i) => f(pick(other, connections)[i], pick('direct', connections)[i]));
    const summary = {
      date: new Date().toISOString(),
      cpu: cpuModel,
      model: size,
      rounds,
      secondsPerPhase: seconds,
      latency1: {
        directP50Ms: median(pick('direct', 1).map((r) => r.result.p50)),
        gatewayP50Ms: median(pick('gateway', 1).map((r) => r.result.p50)),
        addedP50Ms: Math.round(median(perRound(1, (g, d) => g.result.p50 - d.result.p50)) * 1000) / 1000,
        bareProxyP50Ms: median(pick('bare', 1).map((r) => r.result.p50)),
        bareProxyAddedP50Ms: Math.round(median(perRound(1, (b, d) => b.result.p50 - d.result.p50, 'bare')) * 1000) / 1000,
        directP99Ms: median(pick('direct', 1).map((r) => r.result.p99)),
        gatewayP99Ms: median(pick('gateway', 1).map((r) => r.result.p99)),
      },
      throughput32: {
        directRps: median(pick('direct', 32).map((r) => r.result.rps)),
        gatewayRps: median(pick('gateway', 32).map((r) => r.result.rps)),
        ratio: Math.round(median(perRound(32, (g, d) => g.result.rps / d.result.rps)) * 1000) / 1000,
        bareProxyRps: median(pick('bare', 32).map((r) => r.result.rps)),
        bareProxyRatio: Math.round(median(perRound(32, (b, d) => b.result.rps / d.result.rps, 'bare')) * 1000) / 1000,
      },
      stackCpuUsPerRequest: {
        direct: median([...pick('direct', 1), ...pick('direct', 32)].map((r) => r.stackCpuUsPerRequest)),
        bareProxy: median([...pick('bare', 1), ...pick('bare', 32)].map((r) => r.stackCpuUsPerRequest)),
        gateway: median([...pick('gateway', 1), ...pick('gateway', 32)].map((r) => r.stackCpuUsPerRequest)),
      },
      endpointCpuUsPerRequest: { direct: median(pick('direct', 32).map((r) => r.endpointCpuUsPerRequest)), gateway: median(pick('gateway', 32).map((r) => r.endpointCpuUsPerRequest)) },
      startup: {} as Record<string, unknown>,
    };
    await stack.close();

    const startups: Array<{ processToReadyMs: number; processToFirstInvokeMs: number; startStackMs: number; stackCpuMs: number }> = [];
    for (let i = 0; i < Number(values.startups); i++) {
      const { stdout } = await run(process.execPath, [join(ROOT, 'tools/run-ts.js'), join(ROOT, 'libs/local-stack/bench/sagemaker-startup.ts'), dataDir, ENDPOINT, bodyFile]);
      const result = JSON.parse(stdout.trim()) as (typeof startups)[number] & { status: number };
      if (result.status !== 200) throw new Error(`the endpoint answered ${result.status} after the restart`);
      startups.push(result);
      process.stderr.write(`  up #${i + 1}: ready ${result.processToReadyMs} ms after process start (startStack ${result.startStackMs} ms), first invoke at ${result.processToFirstInvokeMs} ms, stack CPU ${result.stackCpuMs} ms\n`);
    }
    summary.startup = {
      runs: startups.length,
      processToReadyMs: median(startups.map((s) => s.processToReadyMs)),
      startStackMs: median(startups.map((s) => s.startStackMs)),
      processToFirstInvokeMs: median(startups.map((s) => s.processToFirstInvokeMs)),
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (values.markdown) await writeFile(values.markdown, markdown(summary));
  } finally {
    await stack.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`sagemaker bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
