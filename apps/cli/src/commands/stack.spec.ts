import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scones, sconesProcess, waitFor } from '../../test/run-cli';

// `scones up / status / env / down` as a user runs them, in child processes.
jest.setTimeout(120_000);

describe('scones up, status, env, down', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scones-up-'));
  });
  afterEach(async () => {
    await scones(['down', '--data-dir', dataDir]);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs detached, shows its status, prints the environment for SDKs, refuses a second stack, and stops', async () => {
    const up = await scones(['up', '--detach', '--port', '0', '--data-dir', dataDir, '--json']);
    expect(up.code).toBe(0);
    const started = JSON.parse(up.stdout);
    expect(started).toMatchObject({ ok: true, detached: true, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), pid: expect.any(Number) });

    const status = await scones(['status', '--data-dir', dataDir, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, url: started.url, pid: started.pid, services: expect.any(Object) });

    const env = await scones(['env', '--data-dir', dataDir, '--format', 'json']);
    expect(JSON.parse(env.stdout)).toMatchObject({ AWS_ENDPOINT_URL: started.url, AWS_ACCESS_KEY_ID: expect.any(String), AWS_SECRET_ACCESS_KEY: expect.any(String), AWS_REGION: 'us-east-1' });
    const shell = await scones(['env', '--data-dir', dataDir]);
    expect(shell.stdout).toContain(`export AWS_ENDPOINT_URL='${started.url}'`);

    const second = await scones(['up', '--port', '0', '--data-dir', dataDir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`another scones stack (pid ${started.pid}) serves ${started.url}`);

    const down = await scones(['down', '--data-dir', dataDir, '--json']);
    expect(JSON.parse(down.stdout)).toMatchObject({ stopped: true, pid: started.pid });
    const after = await scones(['status', '--data-dir', dataDir]);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain('no local stack is running');
  });

  it('stops cleanly on Ctrl-C in the foreground', async () => {
    const up = sconesProcess(['up', '--port', '0', '--data-dir', dataDir, '--json']);
    const started = await waitFor(() => {
      const text = up.output().stdout;
      return text.includes('}') ? JSON.parse(text) : undefined;
    }, { what: 'scones up to print its URL' });
    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    expect(up.output().stderr).toContain('stopping');
    const status = await scones(['status', '--data-dir', dataDir, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false });
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });

  it('names the port when it is in use', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const up = await scones(['up', '--port', String(port), '--data-dir', dataDir]);
      expect(up.code).toBe(1);
      expect(up.stderr).toContain(`port ${port} is in use on 127.0.0.1`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('does not trust a stale instance file: a pid in it is never signalled', async () => {
    // The file names this test's own process (alive, but not a stack): down must not signal it.
    await writeFile(join(dataDir, 'stack.json'), JSON.stringify({ pid: process.pid, instanceId: 'stale-instance-1', dataDir, state: 'running', startedAt: new Date().toISOString(), url: 'http://127.0.0.1:9', port: 9 }));
    const down = await scones(['down', '--data-dir', dataDir, '--json']);
    expect(JSON.parse(down.stdout)).toMatchObject({ stopped: false });
    const up = await scones(['up', '--detach', '--port', '0', '--data-dir', dataDir, '--json']);
    expect(up.code).toBe(0);
  });
});
