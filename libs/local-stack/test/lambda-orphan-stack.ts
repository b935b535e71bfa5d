// A stack in its own process for the orphan test: creates a Python and a Node.js function, invokes
// each once (warm environments now exist), prints their process ids as one JSON line, then waits
// to be killed.   node tools/run-ts.js libs/local-stack/test/lambda-orphan-stack.ts <dataDir>
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { startStack } from '../src/lib/stack';
import type { LambdaService } from '../src/lib/lambda';
import { zipPackage } from '../src/lib/lambda/testing';

async function main(): Promise<void> {
  const stack = await startStack({ dataDir: process.argv[2], port: 0, services: ['lambda'] });
  const client = new LambdaClient({ endpoint: stack.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const role = 'arn:aws:iam::000000000000:role/x';
  await client.send(new CreateFunctionCommand({ FunctionName: 'py', Runtime: 'python3.12', Role: role, Handler: 'f.h', Code: { ZipFile: zipPackage({ 'f.py': 'import os\n\ndef h(event, context):\n    return os.getpid()\n' }) } }));
  await client.send(new CreateFunctionCommand({ FunctionName: 'node', Runtime: 'nodejs22.x', Role: role, Handler: 'index.handler', Code: { ZipFile: zipPackage({ 'index.js': 'setInterval(() => {}, 1000);\nexports.handler = async () => process.pid;\n' }) } }));
  const lambda = stack.service<LambdaService>('lambda') as LambdaService;
  const pids = await Promise.all(['py', 'node'].map(async (name) => Number((await lambda.invoke(name, '{}')).payload.toString())));
  process.stdout.write(`${JSON.stringify({ stack: process.pid, pids })}\n`);
  setInterval(() => undefined, 60_000);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
