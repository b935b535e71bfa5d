// One `scones up` of the SageMaker benchmark, in a fresh process: starts the stack on a data
// directory holding one InService endpoint, then invokes it once.
//   node tools/run-ts.js libs/local-stack/bench/sagemaker-startup.ts <dataDir> <endpoint> <body.png>
// Prints one JSON line: ms from process start to the stack being ready (its endpoint served
// again), to the first answered InvokeEndpoint, and the part spent in startStack().
import { readFileSync } from 'node:fs';
import { cpuUsage } from 'node:process';
import { startStack } from '../src/index';

async function main(): Promise<void> {
  const [dataDir, endpoint, bodyFile] = process.argv.slice(2);
  const body = readFileSync(bodyFile);
  const beforeStart = performance.now();
  const stack = await startStack({ dataDir, port: 0, services: ['s3', 'logs', 'sagemaker', 'sagemaker-runtime'] });
  const ready = performance.now();
  const answer = await fetch(`${stack.url}/endpoints/${endpoint}/invocations`, { method: 'POST', headers: { 'content-type': 'image/png' }, body });
  await answer.arrayBuffer();
  const invoked = performance.now();
  const cpu = cpuUsage();
  process.stdout.write(
    `${JSON.stringify({
      status: answer.status,
      // performance.now() counts from the process's start (timeOrigin).
      processToReadyMs: Math.round(ready),
      processToFirstInvokeMs: Math.round(invoked),
      startStackMs: Math.round(ready - beforeStart),
      stackCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    })}\n`,
  );
  await stack.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`startup: ${(error as Error).message}\n`);
  process.exit(1);
});
