import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { processExists } from '@scones/stack-core';
import { workspaceRoot } from '../workers';

jest.setTimeout(180_000);

describe('Lambda execution environments', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scones-lambda-orphans-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('exit when the stack process is killed (no orphan survives a SIGKILLed stack)', async () => {
    const root = workspaceRoot();
    const child = spawn(process.execPath, [join(root, 'tools/run-ts.js'), join(root, 'libs/local-stack/test/lambda-orphan-stack.ts'), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the stack process exited (${code}) before its functions ran`)));
    });
    const { pids } = JSON.parse(line) as { pids: number[] };
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(processExists(pid)).toBe(true);
    child.kill('SIGKILL');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && pids.some(processExists)) await new Promise((done) => setTimeout(done, 100));
    expect(pids.filter(processExists)).toEqual([]);
  });
});
