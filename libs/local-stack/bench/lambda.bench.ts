// Lambda on the local stack: warm and cold invocations of an echo function, Python and Node.js,
// through the Lambda API (JS SDK v3 InvokeCommand, and a bare keep-alive HTTP POST to separate the
// SDK's own cost) and through the in-process invoke Step Functions uses.
//   node tools/run-ts.js libs/local-stack/bench/lambda.bench.ts [--warm 300] [--cold 15] [--python /usr/bin/python3] [--json]
// Targets (issue 16): warm Python p50 <= 5 ms, cold start (first invocation) <= 300 ms; same for Node.
import { CreateFunctionCommand, InvokeCommand, LambdaClient, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { createLambdaService, type LambdaService } from '../src/lib/lambda';
import { ECHO_CJS, ECHO_PY, zipPackage } from '../src/lib/lambda/testing';
import { startTestStack } from '../src/testing';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { warm: { type: 'string', default: '300' }, cold: { type: 'string', default: '15' }, python: { type: 'string' }, json: { type: 'boolean', default: false } } });
const WARM = Number(values.warm);
const COLD = Number(values.cold);
const ROLE = 'arn:aws:iam::000000000000:role/bench';
const PAYLOAD = JSON.stringify({ image_data: '', s3_bucket: 'scones-data', s3_key: 'test/bicycle_s_000030.png' });

function quantiles(samples: number[]): { p50: number; p90: number; p99: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), n: sorted.length };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** CPU of a process from /proc (ms): its own, and that of its children it has reaped. */
function procCpu(pid: number | 'self'): { own: number; reaped: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const tick = 10; // USER_HZ = 100 on Linux
    return { own: (Number(fields[11]) + Number(fields[12])) * tick, reaped: (Number(fields[13]) + Number(fields[14])) * tick };
  } catch {
    return { own: 0, reaped: 0 };
  }
}

/** CPU (ms) of this process's live children: the warm execution environments. */
function childrenCpu(): number {
  let pids: number[] = [];
  try {
    pids = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return 0;
  }
  return pids.reduce((sum, pid) => sum + procCpu(pid).own, 0);
}

async function main(): Promise<void> {
  const stack = await startTestStack({ factories: [['lambda', (context) => createLambdaService(context, { python: values.python })]] });
  const client = new LambdaClient({ endpoint: stack.url, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, maxAttempts: 1 });
  const lambda = stack.service<LambdaService>('lambda') as LambdaService;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const rawInvoke = (name: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(`${stack.url}/2015-03-31/functions/${name}/invocations`, {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', authorization: 'AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0' },
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 && !res.headers['x-amz-function-error'] ? resolve() : reject(new Error(`invoke ${name}: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(PAYLOAD);
    });
  const cpuStart = process.cpuUsage();
  const results: Record<string, unknown> = {};
  const cpuPerInvocation: Record<string, Record<string, number>> = {};
  try {
    for (const [runtime, name, handler, files] of [
      ['python3.12', 'echo-python', 'lambda_function.lambda_handler', { 'lambda_function.py': ECHO_PY }],
      ['nodejs22.x', 'echo-node', 'index.handler', { 'index.js': ECHO_CJS }],
    ] as const) {
      await client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: runtime, Role: ROLE, Handler: handler, Code: { ZipFile: zipPackage(files) } }));
      // The very first start also resolves the interpreter (python3 behind pyenv…): not timed.
      await client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(PAYLOAD) }));
      const cold: number[] = [];
      const reapedBefore = procCpu('self').reaped;
      for (let i = 0; i < COLD; i++) {
        // A configuration change retires the warm environment: the next invocation is a cold start.
        await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Description: `cold ${i}` }));
        const started = performance.now();
        const answer = await client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(PAYLOAD) }));
        cold.push(performance.now() - started);
        if (answer.FunctionError) throw new Error(`${name}: ${Buffer.from(answer.Payload ?? []).toString()}`);
      }
      // Environments stopped by the updates were reaped: their CPU is this process's children CPU.
      const coldCpuMs = (procCpu('self').reaped - reapedBefore) / COLD;
      const sdk: number[] = [];
      const http: number[] = [];
      const inProcess: number[] = [];
      for (let i = 0; i < 20; i++) await rawInvoke(name);
      const workerBefore = childrenCpu();
      const stackBefore = process.cpuUsage();
      for (let i = 0; i < WARM; i++) {
        let started = performance.now();
        await client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(PAYLOAD) }));
        sdk.push(performance.now() - started);
        started = performance.now();
        await rawInvoke(name);
        http.push(performance.now() - started);
        started = performance.now();
        await lambda.invoke(name, PAYLOAD);
        inProcess.push(performance.now() - started);
      }
      const stackCpu = process.cpuUsage(stackBefore);
      // Per warm invocation (3 per loop: SDK, bare HTTP, in process); the stack process's share
      // includes the JS SDK client running in it.
      cpuPerInvocation[runtime] = {
        coldStartWorkerCpuMs: round(coldCpuMs),
        warmWorkerCpuMs: round((childrenCpu() - workerBefore) / (3 * WARM)),
        warmStackAndClientCpuMs: round((stackCpu.user + stackCpu.system) / 1000 / (3 * WARM)),
      };
      results[runtime] = { coldStartSdk: quantiles(cold), warmSdk: quantiles(sdk), warmHttp: quantiles(http), warmInProcess: quantiles(inProcess) };
    }
  } finally {
    client.destroy();
    agent.destroy();
    await stack.dispose();
  }
  const cpu = process.cpuUsage(cpuStart);
  const report = { date: new Date().toISOString(), cpu: cpus()[0]?.model, node: process.version, python: values.python ?? 'python3', warmSamples: WARM, coldSamples: COLD, stackProcessCpuMs: { user: Math.round(cpu.user / 1000), system: Math.round(cpu.system / 1000) }, results, cpuPerInvocation };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  process.stdout.write(`lambda bench  ${report.date}  ${report.cpu}  node ${report.node}  python ${report.python}\n`);
  process.stdout.write('runtime      path                 p50 ms   p90 ms   p99 ms      n\n');
  for (const [runtime, rows] of Object.entries(results)) {
    for (const [path, q] of Object.entries(rows as Record<string, ReturnType<typeof quantiles>>)) {
      process.stdout.write(`${runtime.padEnd(12)} ${path.padEnd(18)} ${String(q.p50).padStart(8)} ${String(q.p90).padStart(8)} ${String(q.p99).padStart(8)} ${String(q.n).padStart(6)}\n`);
    }
  }
  for (const [runtime, cpu] of Object.entries(cpuPerInvocation)) {
    process.stdout.write(`${runtime.padEnd(12)} CPU: cold start ${cpu.coldStartWorkerCpuMs} ms (worker process), warm ${cpu.warmWorkerCpuMs} ms worker + ${cpu.warmStackAndClientCpuMs} ms stack and client per invocation\n`);
  }
  process.stdout.write(`stack process CPU: user ${report.stackProcessCpuMs.user} ms, system ${report.stackProcessCpuMs.system} ms\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
