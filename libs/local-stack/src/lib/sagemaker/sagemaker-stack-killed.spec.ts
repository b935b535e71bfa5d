import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { processExists } from '@scones/stack-core';
import { startTestStack, type TestStack } from '../../testing';
import { environmentClients, eventually, getText, listKeys, png, useSdkEnvironment } from '../../../test/sagemaker-kit';

jest.setTimeout(240_000);

const ROOT = resolve(__dirname, '../../../../..');

/*
 * `scones up` killed with SIGKILL: its endpoint process must not outlive it (it exits when the
 * stack's IPC channel closes), and nothing it answered is lost — the captured records wait in the
 * deployment's spool and are uploaded when the next `scones up` serves the endpoint again.
 */
describe('a SIGKILLed stack', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  let stack: TestStack | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scones-killed-'));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await stack?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves no endpoint process behind and loses no captured request', async () => {
    child = spawn(process.execPath, [join(ROOT, 'tools/run-ts.js'), join(ROOT, 'libs/local-stack/test/stack-with-endpoint.ts'), dataDir, 'killed-endpoint'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await new Promise<string>((resolveLine, reject) => {
      createInterface({ input: child!.stdout! }).once('line', resolveLine);
      child!.once('exit', (code) => reject(new Error(`the stack process exited (${code}) before its endpoint was in service`)));
    });
    const { url, workerPid } = JSON.parse(first) as { url: string; workerPid: number };
    expect(processExists(workerPid)).toBe(true);

    const body = png(90, 1);
    const answered = 25;
    for (let i = 0; i < answered; i++) {
      const answer = await fetch(`${url}/endpoints/killed-endpoint/invocations`, { method: 'POST', headers: { 'content-type': 'image/png', 'x-amzn-sagemaker-inference-id': `req-${i}` }, body });
      expect(answer.status).toBe(200);
      await answer.arrayBuffer();
    }
    child.kill('SIGKILL');
    await eventually(async () => (processExists(workerPid) ? undefined : true), 20_000, 'the endpoint process to exit after the stack died');

    stack = await startTestStack({ services: ['s3', 'logs', 'sagemaker', 'sagemaker-runtime'], dataDir });
    const restore = useSdkEnvironment(stack.context.sdkEnvironment());
    const { s3, runtime, sagemaker } = environmentClients();
    try {
      const ids = await eventually(
        async () => {
          const found = new Set<string>();
          for (const key of await listKeys(s3, 'capture', 'data_capture/killed-endpoint/AllTraffic/')) {
            for (const line of (await getText(s3, 'capture', key)).split('\n').filter(Boolean)) {
              found.add((JSON.parse(line) as { eventMetadata: { inferenceId?: string } }).eventMetadata.inferenceId ?? '');
            }
          }
          return found.size >= answered ? found : undefined;
        },
        60_000,
        'every answered request in the capture',
      );
      expect([...ids].sort()).toEqual(Array.from({ length: answered }, (_, i) => `req-${i}`).sort());
    } finally {
      for (const c of [s3, runtime, sagemaker]) c.destroy();
      restore();
    }
  });
});
