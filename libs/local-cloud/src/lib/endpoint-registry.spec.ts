import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointRegistration } from '@scones/payload-schemas';
import { EndpointRegistry, EndpointRegistryError, processIsAlive } from './endpoint-registry';

const entry = (name: string, pid = process.pid): EndpointRegistration => ({
  name,
  url: 'http://127.0.0.1:4321',
  port: 4321,
  pid,
  model: '/models/job-1',
  captureDestination: 's3://scones/data_capture',
  startedAt: '2026-01-02T03:04:05.000Z',
});

/** A child process that exits 0 on SIGTERM (like an endpoint) and prints "ready" once it listens for it. */
async function startChild(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => process.exit(0)); console.log('ready'); setInterval(() => {}, 1000);"], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('EndpointRegistry', () => {
  let dir: string;
  let registry: EndpointRegistry;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scones-endpoints-'));
    registry = new EndpointRegistry({ directory: dir });
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('registers, finds, lists and unregisters endpoints by name', async () => {
    await registry.register(entry('beta'));
    await registry.register(entry('alpha'));
    expect(await registry.get('alpha')).toEqual(entry('alpha'));
    expect((await registry.list()).map((e) => e.name)).toEqual(['alpha', 'beta']);
    expect(await registry.unregister('alpha')).toBe(true);
    expect(await registry.unregister('alpha')).toBe(false);
    expect(await registry.get('alpha')).toBeUndefined();
    expect(await readdir(dir)).toEqual(['beta.json']);
  });

  it('is shared through the directory: another registry object (another process) sees the entries', async () => {
    await registry.register(entry('shared'));
    expect(await new EndpointRegistry({ directory: dir }).get('shared')).toEqual(entry('shared'));
  });

  (process.platform === 'linux' ? it : it.skip)('takes a zombie (exited, not yet reaped) for a stopped process', async () => {
    // `sleep 0.1` exits first; its parent became `sleep 5` by exec and never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(parent);
    const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString()))));
    expect(processIsAlive(pid)).toBe(true);
    // Wait for the condition itself (the child exits after 0.1 s, however slow the machine is).
    const deadline = Date.now() + 20_000;
    while (processIsAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(processIsAlive(pid)).toBe(false);
    expect(processIsAlive(parent.pid!)).toBe(true);
  });

  it('drops entries whose process is gone', async () => {
    const pid = await deadPid();
    expect(processIsAlive(pid)).toBe(false);
    await registry.register(entry('stale', pid));
    await registry.register(entry('live'));
    expect((await registry.list()).map((e) => e.name)).toEqual(['live']);
    expect(await registry.get('stale')).toBeUndefined();
    expect(await readdir(dir)).toEqual(['live.json']);
  });

  it("refuses a name a live endpoint of another process holds; re-registering one's own is fine", async () => {
    const child = await startChild();
    children.push(child);
    await registry.register(entry('taken', child.pid!));
    await expect(registry.register(entry('taken'))).rejects.toThrow(
      new EndpointRegistryError(`endpoint "taken" is already running at http://127.0.0.1:4321 (pid ${child.pid}); stop it or choose another --name`),
    );
    await expect(registry.register({ ...entry('taken', child.pid!), port: 9999 })).resolves.toBeUndefined();
    expect(await registry.unregister('taken', { pid: process.pid })).toBe(false);
  });

  it('stop() terminates the endpoint process and removes its entry', async () => {
    const child = await startChild();
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await registry.register(entry('to-stop', child.pid!));
    expect(await registry.stop('to-stop')).toBe(true);
    expect(await exited).toBe(0);
    expect(await registry.get('to-stop')).toBeUndefined();
    expect(await registry.stop('to-stop')).toBe(false);
  });

  it('names the problem with a bad name, a bad entry or a corrupt file', async () => {
    await expect(registry.get('../etc/passwd')).rejects.toThrow(EndpointRegistryError);
    await expect(registry.register({ ...entry('ok'), url: 'nope' })).rejects.toThrow('endpoint registration: url: expected an http(s) URL');
    await writeFile(join(dir, 'broken.json'), '{"name": "broken"');
    await expect(registry.get('broken')).rejects.toThrow(`${join(dir, 'broken.json')}: not valid JSON`);
  });

  it('lists nothing when the directory does not exist yet', async () => {
    expect(await new EndpointRegistry({ directory: join(dir, 'missing') }).list()).toEqual([]);
  });
});
