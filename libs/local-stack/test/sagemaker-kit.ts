// Shared pieces of the SageMaker tests: clients configured only by the stack's SDK environment,
// model artifacts in the stack's S3, tiny image datasets in the course's channel layout.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { encodePng } from '@scones/image-classifier';
import { writeFixtureArtifact } from '@scones/image-classifier/testing';
import { packModelTarball } from '../src/lib/sagemaker/model-data';

export const BUILTIN_IMAGE = '811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1';
export const ROLE = 'arn:aws:iam::000000000000:role/SageMakerRole';

/**
 * Sets the stack's SDK environment in this (Jest worker) process, so clients built with no options
 * find the stack as a user's shell would (`AWS_ENDPOINT_URL`…); returns a function restoring it.
 */
export function useSdkEnvironment(env: Record<string, string>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(env)) {
    saved.set(key, process.env[key]);
    process.env[key] = value;
  }
  return () => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

/** JS SDK v3 clients with no endpoint, region or credentials of their own: the environment gives them. */
export function environmentClients() {
  return {
    sagemaker: new SageMakerClient({ maxAttempts: 1 }),
    runtime: new SageMakerRuntimeClient({ maxAttempts: 1 }),
    s3: new S3Client({ maxAttempts: 1, forcePathStyle: true }),
  };
}

export async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** A real (untrained, tiny) model artifact as `model.tar.gz`, the artifact files at its root. */
export async function fixtureModelTarball(jobName = 'fixture-job'): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'scones-model-'));
  try {
    await writeFixtureArtifact(join(dir, 'model'), { jobName });
    return await packModelTarball(join(dir, 'model'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function putObject(s3: S3Client, bucket: string, key: string, body: Uint8Array | string, contentType?: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(contentType ? { ContentType: contentType } : {}) }));
}

export async function getText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await answer.Body?.transformToString()) ?? '';
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const answer = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (answer.Contents ?? []).map((o) => o.Key!).sort();
}

/** A 32×32 PNG of one colour (plus a little per-image noise). */
export function png(level: number, seed = 0): Buffer {
  const data = new Uint8Array(32 * 32 * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, level + ((i * 31 + seed * 17) % 21) - 10));
  return encodePng({ width: 32, height: 32, data });
}

/**
 * A two-class dataset the trainer learns in an epoch (dark vs bright images) in the course's
 * layout: `<prefix>train/*.png`, `<prefix>train.lst`, `<prefix>test/*.png`, `<prefix>test.lst`.
 */
export async function putTinyDataset(s3: S3Client, bucket: string, prefix: string, perClass = { train: 12, test: 4 }): Promise<{ train: number; test: number }> {
  const counts = { train: 0, test: 0 };
  for (const split of ['train', 'test'] as const) {
    const rows: string[] = [];
    for (let label = 0; label < 2; label++) {
      for (let i = 0; i < perClass[split]; i++) {
        const name = `${label ? 'bright' : 'dark'}_${split}_${i}.png`;
        await putObject(s3, bucket, `${prefix}${split}/${name}`, png(label ? 200 : 50, i), 'image/png');
        rows.push(`${counts[split]++}\t${label}\t${name}`);
      }
    }
    await putObject(s3, bucket, `${prefix}${split}.lst`, `${rows.join('\n')}\n`, 'text/plain');
  }
  return counts;
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
