// Load generator of the SageMaker benchmark, in its own process (the stack's event loop is not
// shared with the client):
//   node tools/run-ts.js libs/local-stack/bench/sagemaker-load-client.ts <url> <connections> <seconds> <body.png>
// `connections` closed loops over keep-alive connections, each sending the next InvokeEndpoint as
// soon as the previous answer arrived; every request is timed with performance.now(). Prints one
// JSON line: requests/s, latency percentiles (ms), answers by status.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

// What the SDKs send: a SigV4 Authorization header naming the sagemaker scope (the gateway routes
// by it; the model server ignores it), sent to both targets alike.
const AUTHORIZATION = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/sagemaker/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0';

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : Number.NaN;
}

function invoke(agent: Agent, url: URL, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'image/png', 'content-length': body.length, authorization: AUTHORIZATION, 'x-amz-date': '20261207T000000Z' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const [target, connectionsText, secondsText, bodyFile] = process.argv.slice(2);
  const url = new URL(target);
  const connections = Number(connectionsText);
  const seconds = Number(secondsText);
  const body = readFileSync(bodyFile);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  // Warm-up: open the connections and let both ends reach steady state.
  await Promise.all(Array.from({ length: connections }, () => invoke(agent, url, body)));
  const times: number[] = [];
  const statuses: Record<string, number> = {};
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const status = await invoke(agent, url, body);
        times.push(performance.now() - t);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  times.sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 1000) / 1000;
  process.stdout.write(
    `${JSON.stringify({ connections, requests: times.length, rps: Math.round(times.length / elapsed), p50: round(quantile(times, 0.5)), p90: round(quantile(times, 0.9)), p99: round(quantile(times, 0.99)), statuses })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`load client: ${(error as Error).message}\n`);
  process.exit(1);
});
