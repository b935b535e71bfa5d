// What the CLI specs need around a local stack: one started as a user starts it (`scones up
// --detach`), real SDK clients configured only by what `scones env` prints, and the data the
// commands work on (PNG images, .lst manifests, a model artifact).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SFNClient } from '@aws-sdk/client-sfn';
import { encodePng } from '@scones/image-classifier';
import { scones } from './run-cli';

/** A stack of `scones up --detach` and the environment `scones env --format json` prints for it. */
export interface RunningStack {
  dataDir: string;
  url: string;
  pid: number;
  /** AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION… */
  env: Record<string, string>;
}

/** `scones up --detach --port 0 --data-dir <dataDir>`, then `scones env --format json`. */
export async function upDetached(dataDir: string): Promise<RunningStack> {
  const up = await scones(['up', '--detach', '--port', '0', '--data-dir', dataDir, '--json']);
  if (up.code !== 0) throw new Error(`scones up --detach exited ${up.code}: ${up.stderr}`);
  const started = JSON.parse(up.stdout) as { url: string; pid: number };
  const printed = await scones(['env', '--data-dir', dataDir, '--format', 'json']);
  if (printed.code !== 0) throw new Error(`scones env exited ${printed.code}: ${printed.stderr}`);
  return { dataDir, url: started.url, pid: started.pid, env: JSON.parse(printed.stdout) as Record<string, string> };
}

/** `scones down --data-dir <dataDir>`. */
export async function down(dataDir: string): Promise<void> {
  await scones(['down', '--data-dir', dataDir]);
}

/** JS SDK v3 clients that know only the stack's environment (endpoint, region, credentials). */
export function stackClients(env: Record<string, string>) {
  const config = {
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    maxAttempts: 1,
  };
  const clients = {
    s3: new S3Client({ ...config, forcePathStyle: true }),
    sagemaker: new SageMakerClient(config),
    runtime: new SageMakerRuntimeClient(config),
    sfn: new SFNClient(config),
  };
  return { ...clients, destroy: () => Object.values(clients).forEach((client) => client.destroy()) };
}

/**
 * The environment of a child `scones --target aws`: the stack's, as `eval "$(scones env)"` gives a
 * shell, and nothing of the local target (no data directory).
 */
export function awsTargetEnv(stack: RunningStack): Record<string, string | undefined> {
  return { ...stack.env, SCONES_DATA_DIR: undefined, AWS_PROFILE: undefined };
}

/** Creates the bucket unless it exists (any test may be the first to need it). */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (!/BucketAlready(OwnedByYou|Exists)/.test((error as Error).name)) throw error;
  }
}

export async function putObject(s3: S3Client, bucket: string, key: string, body: Uint8Array | string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

export async function getText(s3: S3Client, bucket: string, key: string): Promise<string> {
  return (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? '';
}

/** Every key under a prefix, sorted. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key as string));
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

/** Uploads the files of a directory (not recursive) under a prefix. */
export async function putDirectory(s3: S3Client, bucket: string, prefix: string, dir: string): Promise<void> {
  for (const name of await readdir(dir)) await putObject(s3, bucket, `${prefix}${name}`, await readFile(join(dir, name)));
}

/** A 32×32 PNG around one grey level, with a little pattern of its own per seed. */
export function testPng(level: number, seed = 0): Buffer {
  const data = new Uint8Array(32 * 32 * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, level + ((i * 31 + seed * 17) % 41) - 20));
  return encodePng({ width: 32, height: 32, data });
}

/**
 * A two-class image set in the bucket layout under `prefix` (`<prefix>train/`, `<prefix>train.lst`,
 * `<prefix>test/`, `<prefix>test.lst`): dark images are class 0, bright ones class 1.
 */
export async function putImageSet(s3: S3Client, bucket: string, prefix: string, perClass = { train: 8, test: 3 }): Promise<{ train: string[]; test: string[] }> {
  const keys = { train: [] as string[], test: [] as string[] };
  for (const split of ['train', 'test'] as const) {
    const rows: string[] = [];
    for (let label = 0; label < 2; label++) {
      for (let i = 0; i < perClass[split]; i++) {
        const name = `${label ? 'bright' : 'dark'}_${split}_${i}.png`;
        await putObject(s3, bucket, `${prefix}${split}/${name}`, testPng(label ? 190 : 60, i));
        keys[split].push(`${prefix}${split}/${name}`);
        rows.push(`${rows.length}\t${label}\t${name}`);
      }
    }
    await putObject(s3, bucket, `${prefix}${split}.lst`, `${rows.join('\n')}\n`);
  }
  return keys;
}

/** The processes whose command line contains `text` (e.g. a test's data directory), from /proc. */
export async function processesMentioning(text: string): Promise<Array<{ pid: number; command: string }>> {
  const found: Array<{ pid: number; command: string }> = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const command = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      // A zombie (exited, not yet reaped) has an empty command line: it runs nothing.
      if (command.includes(text)) found.push({ pid: Number(entry), command });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** A process and when it started (clock ticks since boot): a pid alone may be reused. */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

async function identityOf(pid: number): Promise<(ProcessIdentity & { ppid: number; state: string }) | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state ppid … starttime (22nd field).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: rest[0], ppid: Number(rest[1]), startTime: rest[19] };
  } catch {
    return undefined;
  }
}

/** `pid` and every process below it, now. */
export async function processTree(pid: number): Promise<ProcessIdentity[]> {
  const all = (await Promise.all((await readdir('/proc')).filter((e) => /^\d+$/.test(e)).map((e) => identityOf(Number(e))))).filter((p) => p !== undefined);
  const tree: ProcessIdentity[] = [];
  const pending = [pid];
  while (pending.length) {
    const parent = pending.pop() as number;
    const self = all.find((p) => p.pid === parent);
    if (self) tree.push({ pid: self.pid, startTime: self.startTime });
    pending.push(...all.filter((p) => p.ppid === parent).map((p) => p.pid));
  }
  return tree;
}

/** Those of `processes` still running (the same process: same pid and start time; zombies do not count). */
export async function stillRunning(processes: readonly ProcessIdentity[]): Promise<ProcessIdentity[]> {
  const running: ProcessIdentity[] = [];
  for (const p of processes) {
    const now = await identityOf(p.pid);
    if (now && now.startTime === p.startTime && now.state !== 'Z') running.push(p);
  }
  return running;
}
