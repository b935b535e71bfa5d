import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { decodeFloat32Matrix, modelManifestSchema, PayloadValidationError, parseJsonOrThrow, type Float32MatrixJson, type ModelManifest } from '@scones/payload-schemas';
import { BaselineError } from '../errors';
import type { EmbeddingReference } from './embedding-drift';
import type { Matrix } from './embedding-statistics';

/** What monitoring compares traffic with: the model's validation behaviour and its threshold. */
export interface MonitoringBaseline {
  /** Where the manifest was read from (path or s3:// URL). */
  source: string;
  jobName: string;
  classNames: string[];
  threshold: number;
  /** Validation images the baseline was computed from. */
  count: number;
  confidences: number[];
  predictedClassCounts: number[];
  brightness: { r: number[]; g: number[]; b: number[] };
  /** Validation images per size (`"32x32"` → count); absent in older manifests. */
  imageSizes?: Record<string, number>;
  /** The model's embeddings of the validation and training images; absent in older manifests. */
  embedding?: EmbeddingReference;
  /** Where the model artifact is (its directory, `s3://bucket/prefix/`, or a `model.tar.gz`): what embeds traffic. */
  artifact?: { directory: string } | { bucket: string; prefix: string } | { bucket: string; tarball: string };
}

const matrix = (m: Float32MatrixJson): Matrix => ({ rows: m.rows, columns: m.columns, data: decodeFloat32Matrix(m) });

export const MANIFEST_FILE = 'manifest.json';
export const DEFAULT_MODEL_PREFIX = 'models/';

/** Checks that the baseline's parts agree with each other and with the class list. */
export function baselineFromManifest(manifest: ModelManifest, source: string): MonitoringBaseline {
  const { baseline, classNames } = manifest;
  const problems: string[] = [];
  if (baseline.predictedClassCounts.length !== classNames.length) {
    problems.push(`baseline.predictedClassCounts has ${baseline.predictedClassCounts.length} entries for ${classNames.length} classes`);
  }
  const { r, g, b } = baseline.brightness;
  if (r.length !== g.length || r.length !== b.length) problems.push(`baseline.brightness r/g/b have different lengths (${r.length}/${g.length}/${b.length})`);
  const embedding = baseline.embedding;
  if (embedding && embedding.validation.rows !== baseline.count) {
    problems.push(`baseline.embedding.validation has ${embedding.validation.rows} rows for ${baseline.count} validation images`);
  }
  if (embedding && embedding.training.rows === 0) problems.push('baseline.embedding.training has no rows');
  if (problems.length) throw new BaselineError(`${source}: ${problems.join('; ')}`);
  return {
    source,
    jobName: manifest.jobName,
    classNames: [...classNames],
    threshold: manifest.threshold.value,
    count: baseline.count,
    confidences: baseline.confidences,
    predictedClassCounts: baseline.predictedClassCounts,
    brightness: { r, g, b },
    ...(baseline.imageSizes ? { imageSizes: { ...baseline.imageSizes } } : {}),
    // Penultimate-layer embeddings (manifests of earlier versions) are not what `embed` computes now: as if absent.
    ...(embedding?.layer === 'stages' ? { embedding: { normalization: embedding.normalization, validation: matrix(embedding.validation), training: matrix(embedding.training) } } : {}),
  };
}

function parseManifest(text: string, source: string): MonitoringBaseline {
  try {
    return baselineFromManifest(parseJsonOrThrow(modelManifestSchema, text, source), source);
  } catch (error) {
    if (error instanceof PayloadValidationError) throw new BaselineError(`invalid model manifest ${error.message}`);
    throw error;
  }
}

/** Reads `manifest.json` from a model artifact directory (or the manifest file itself). */
export async function loadBaselineFromDirectory(path: string): Promise<MonitoringBaseline> {
  const absolute = resolve(path);
  const file = absolute.endsWith('.json') ? absolute : join(absolute, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BaselineError(`model manifest ${file}: ${code === 'ENOENT' ? 'does not exist (expected a model artifact directory with manifest.json)' : (error as Error).message}`);
  }
  return { ...parseManifest(text, file), artifact: { directory: dirname(file) } };
}

/** Reads a manifest from S3. */
export async function loadBaselineFromS3(client: S3Client, bucket: string, key: string, signal?: AbortSignal): Promise<MonitoringBaseline> {
  const source = `s3://${bucket}/${key}`;
  let text: string;
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    text = (await response.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    if (signal?.aborted) throw error;
    const name = (error as Error).name;
    throw new BaselineError(`model manifest ${source}: ${name === 'NoSuchKey' ? 'does not exist' : `${name}: ${(error as Error).message}`}`);
  }
  return { ...parseManifest(text, source), artifact: { bucket, prefix: key.slice(0, key.lastIndexOf('/') + 1) } };
}

/**
 * The newest `<prefix><job>/manifest.json` among listed objects: by LastModified, then by key
 * (the later name wins a tie, e.g. two uploads in the same second). Only manifests directly in a
 * job folder count, not ones nested deeper (e.g. checkpoints).
 */
export function newestManifestKey(objects: Iterable<{ Key?: string; LastModified?: Date }>, prefix = DEFAULT_MODEL_PREFIX): string | undefined {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  let best: { key: string; modified: number } | undefined;
  for (const object of objects) {
    const key = object.Key ?? '';
    if (!key.startsWith(base) || !key.endsWith(`/${MANIFEST_FILE}`) || key.slice(base.length).split('/').length !== 2) continue;
    const modified = object.LastModified?.getTime() ?? 0;
    if (!best || modified > best.modified || (modified === best.modified && key > best.key)) best = { key, modified };
  }
  return best?.key;
}

/**
 * Key of the newest `models/<job>/manifest.json` in the bucket ({@link newestManifestKey}), the
 * model a report compares against when none is named.
 */
export async function findLatestManifestKey(client: S3Client, bucket: string, prefix = DEFAULT_MODEL_PREFIX, signal?: AbortSignal): Promise<string> {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  const objects: Array<{ Key?: string; LastModified?: Date }> = [];
  try {
    for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: base })) {
      signal?.throwIfAborted();
      objects.push(...(page.Contents ?? []));
    }
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new BaselineError(`cannot list model manifests at s3://${bucket}/${base}: ${(error as Error).name}: ${(error as Error).message}`);
  }
  const key = newestManifestKey(objects, base);
  if (!key) throw new BaselineError(`no model manifest under s3://${bucket}/${base} (train a model first, or name the model to compare with)`);
  return key;
}

/** The manifest key of a training job: `models/<job>/manifest.json`. */
export function manifestKeyForJob(jobName: string, prefix = DEFAULT_MODEL_PREFIX): string {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return `${base}${jobName}/${MANIFEST_FILE}`;
}

export interface BaselineLocation {
  /** A local model artifact directory (or its manifest.json). Wins over everything else. */
  modelDirectory?: string;
  /** The bucket holding `models/<job>/manifest.json`. */
  s3?: { client: S3Client; bucket: string };
  /** Exact manifest key in the bucket. */
  manifestKey?: string;
  /** Training job name: `<modelPrefix><job>/manifest.json`. */
  jobName?: string;
  /** Where model artifacts live in the bucket; default `models/`. Without key or job: the newest manifest under it. */
  modelPrefix?: string;
  signal?: AbortSignal;
}

/** The baseline a report compares with: a named directory, key or job, else the newest model in the bucket. */
export async function resolveBaseline(location: BaselineLocation): Promise<MonitoringBaseline> {
  if (location.modelDirectory) return loadBaselineFromDirectory(location.modelDirectory);
  if (!location.s3) throw new BaselineError('no model to compare with: name a model directory, or a bucket holding models/<job>/manifest.json');
  const { client, bucket } = location.s3;
  const key =
    location.manifestKey ??
    (location.jobName ? manifestKeyForJob(location.jobName, location.modelPrefix) : await findLatestManifestKey(client, bucket, location.modelPrefix, location.signal));
  return loadBaselineFromS3(client, bucket, key, location.signal);
}
