// Load generator of the model-server benchmark, run in its own process (so the server's event loop
// is not shared with the client):
//   node tools/run-ts.js libs/model-server/bench/load-client.ts latency <url> <clients> <seconds> <png-dir>
//   node tools/run-ts.js libs/model-server/bench/load-client.ts throughput <url> <connections> <seconds> <png-dir>
//   node tools/run-ts.js libs/model-server/bench/load-client.ts ping <url> 1 <seconds> <png-dir>
// Prints one JSON line: latency percentiles (ms, measured per request with performance.now) or
// autocannon's requests/s, and the count of 200 answers (to compare with the capture records).
// `ping` sends GET /ping every 10 ms on its own connection (run beside a load) and times each.
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import autocannon from 'autocannon';

interface Result {
  mode: string;
  concurrency: number;
  requests: number;
  ok: number;
  errors: number;
  seconds: number;
  rps: number;
  p50?: number;
  p90?: number;
  p99?: number;
  max?: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function get(agent: Agent, url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function post(agent: Agent, url: URL, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'image/png', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `clients` closed loops, each sending the next image as soon as the previous answer arrived. */
async function latency(url: URL, clients: number, seconds: number, images: Buffer[]): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const body = images[next++ % images.length];
        const t0 = performance.now();
        try {
          const status = await post(agent, url, body);
          latencies.push(performance.now() - t0);
          if (status === 200) ok++;
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    mode: 'latency',
    concurrency: clients,
    requests: latencies.length + errors,
    ok,
    errors,
    seconds: round(elapsed),
    rps: round(latencies.length / elapsed),
    p50: round(quantile(latencies, 0.5)),
    p90: round(quantile(latencies, 0.9)),
    p99: round(quantile(latencies, 0.99)),
    max: round(latencies.at(-1) ?? Number.NaN),
  };
}

/** GET /ping every 10 ms (sequentially, one keep-alive connection) for `seconds`. */
async function ping(url: URL, _clients: number, seconds: number): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL('/ping', url);
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const t0 = performance.now();
    try {
      if ((await get(agent, target)) === 200) ok++;
      else errors++;
      latencies.push(performance.now() - t0);
    } catch {
      errors++;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    mode: 'ping',
    concurrency: 1,
    requests: latencies.length + errors,
    ok,
    errors,
    seconds,
    rps: round(latencies.length / seconds),
    p50: round(quantile(latencies, 0.5)),
    p90: round(quantile(latencies, 0.9)),
    p99: round(quantile(latencies, 0.99)),
    max: round(latencies.at(-1) ?? Number.NaN),
  };
}

/** autocannon with `connections` keep-alive connections, cycling through the images. */
function throughput(url: URL, connections: number, seconds: number, images: Buffer[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    let ok = 0;
    const instance = autocannon(
      {
        url: url.toString(),
        connections,
        duration: seconds,
        requests: images.map((body) => ({ method: 'POST', headers: { 'content-type': 'image/png' }, body })),
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          mode: 'throughput',
          concurrency: connections,
          requests: result.requests.total,
          ok,
          errors: result.errors + result.timeouts + result.non2xx,
          seconds: result.duration,
          rps: Math.round((result.requests.total / result.duration) * 10) / 10,
          p50: result.latency.p50,
          p90: result.latency.p90,
          p99: result.latency.p99,
          max: result.latency.max,
        });
      },
    );
    instance.on('response', (_client: unknown, status: number) => {
      if (status === 200) ok++;
    });
  });
}

async function main(): Promise<void> {
  const [mode, target, concurrency, seconds, pngDir] = process.argv.slice(2);
  const images = readdirSync(pngDir)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => readFileSync(join(pngDir, f)));
  if (!images.length) throw new Error(`no .png files in ${pngDir}`);
  const url = new URL(target);
  const run = mode === 'latency' ? latency : mode === 'throughput' ? throughput : mode === 'ping' ? ping : undefined;
  if (!run) throw new Error(`mode: expected latency, throughput or ping, got ${mode}`);
  const result = await run(url, Number(concurrency), Number(seconds), images);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`load-client: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
