import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { deleteObjects, putObjects } from '@scones/local-cloud';
import { modelManifestSchema, parseJsonOrThrow, parseOrThrow, PayloadValidationError, type ModelManifest } from '@scones/payload-schemas';
import { ArtifactError } from '../errors';
import { describeStoredFile, readStoredFile, storedKey, type S3Tarball, type StorageLocation } from './storage';

/*
 * A model artifact is a directory (or an S3 prefix, `models/<job>/`) holding
 *   manifest.json   — classes, preprocessing, training history, test figures, threshold, baseline
 *   model.json      — the tfjs LayersModel topology and weights manifest (standard tfjs format)
 *   weights.bin     — the weights
 * manifest.json is what makes an artifact complete: it is written last (S3) or the directory
 * appears at once by rename (disk), so readers never see a half-written artifact.
 */

/** An artifact location in S3: the prefix is the artifact's "directory", e.g. `models/my-job/`. */
export interface S3ArtifactLocation {
  s3: S3Client;
  bucket: string;
  prefix: string;
}

/**
 * The artifact at a SageMaker model data URL: `s3://bucket/…/model.tar.gz` (what a training job
 * writes) or an S3 prefix `s3://bucket/models/<job>/` (uncompressed model data).
 */
export function artifactAtUrl(s3: S3Client, url: string): S3ArtifactLocation | S3TarballArtifactLocation {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(url);
  if (!match) throw new ArtifactError(`model data ${JSON.stringify(url)}: expected an s3:// URL`);
  const [, bucket, key] = match;
  return key === '' || key.endsWith('/') ? { s3, bucket, prefix: key } : { s3, bucket, tarball: key };
}

/** A SageMaker `model.tar.gz` in S3 holding the artifact's files at its root (read only). */
export type S3TarballArtifactLocation = S3Tarball;

export type ArtifactLocation = string | S3ArtifactLocation | S3TarballArtifactLocation;

export const MANIFEST_FILE = 'manifest.json';
export const WEIGHTS_FILE = 'weights.bin';

export interface ArtifactFiles {
  /** Where the artifact is (`/abs/dir` or `s3://bucket/prefix/`). */
  location: string;
  /** Relative file names, manifest last. */
  files: string[];
  bytes: number;
}

function storage(location: ArtifactLocation): StorageLocation {
  return typeof location === 'string' ? { directory: location } : location;
}

/** `/abs/dir/file` or `s3://bucket/prefix/file`. */
export function describeArtifactFile(location: ArtifactLocation, relative = ''): string {
  return describeStoredFile(storage(location), relative);
}

/** Serialises a model to the files of an artifact (standard tfjs model.json + one weights file). */
async function serialiseModel(model: tf.LayersModel): Promise<{ modelJson: string; weights: Uint8Array }> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const artifacts = captured;
  if (!artifacts) throw new ArtifactError('the model did not serialise');
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0)));
  // The standard tfjs model.json (what tf.io.getModelJSONForModelArtifacts builds; not exported).
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
  };
  return { modelJson: JSON.stringify(modelJson), weights };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function saveToDirectory(target: string, files: Array<{ name: string; body: Uint8Array | string }>, signal?: AbortSignal): Promise<void> {
  const dir = resolve(target);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = join(dirname(dir), `.${basename(dir)}.tmp-${suffix}`);
  const previous = join(dirname(dir), `.${basename(dir)}.old-${suffix}`);
  try {
    await mkdir(staging, { recursive: true });
    for (const file of files) {
      signal?.throwIfAborted();
      await writeFile(join(staging, file.name), file.body);
    }
    signal?.throwIfAborted();
    // rename() cannot replace a non-empty directory: move the old artifact aside first.
    const replacing = await exists(dir);
    if (replacing) await rename(dir, previous);
    try {
      await rename(staging, dir);
    } catch (error) {
      if (replacing) await rename(previous, dir).catch(() => undefined);
      throw error;
    }
    if (replacing) await rm(previous, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (signal?.aborted) throw signal.reason ?? error;
    throw error instanceof ArtifactError ? error : new ArtifactError(`cannot write model artifact ${dir}: ${(error as Error).message}`);
  }
}

async function saveToS3(location: S3ArtifactLocation, files: Array<{ name: string; body: Uint8Array | string; contentType: string }>, signal?: AbortSignal): Promise<void> {
  const key = (name: string) => storedKey(location, name);
  const manifest = files.filter((f) => f.name === MANIFEST_FILE);
  const others = files.filter((f) => f.name !== MANIFEST_FILE);
  try {
    // An existing artifact stops being complete before any of its files change.
    await location.s3.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: key(MANIFEST_FILE) }), { abortSignal: signal });
    await putObjects(
      location.s3,
      location.bucket,
      others.map((f) => ({ key: key(f.name), body: f.body, contentType: f.contentType })),
      { signal },
    );
    await putObjects(
      location.s3,
      location.bucket,
      manifest.map((f) => ({ key: key(f.name), body: f.body, contentType: f.contentType })),
      { signal },
    );
  } catch (error) {
    // Without manifest.json the rest is not an artifact; remove it rather than leave debris.
    await deleteObjects(
      location.s3,
      location.bucket,
      others.map((f) => key(f.name)),
    ).catch(() => undefined);
    if (signal?.aborted) throw signal.reason ?? error;
    throw new ArtifactError(`cannot write model artifact ${describeArtifactFile(location)}: ${(error as Error).message}`);
  }
}

/**
 * Writes a model and its manifest as an artifact directory on disk or under an S3 prefix.
 * The manifest is validated first; the write is atomic as seen by {@link loadClassifier}.
 */
export async function saveArtifact(artifact: { model: tf.LayersModel; manifest: ModelManifest }, location: ArtifactLocation, options: { signal?: AbortSignal } = {}): Promise<ArtifactFiles> {
  let manifest: ModelManifest;
  try {
    manifest = parseOrThrow(modelManifestSchema, artifact.manifest, 'model manifest');
  } catch (error) {
    throw new ArtifactError((error as Error).message);
  }
  if (manifest.modelPath !== 'model.json') throw new ArtifactError(`model manifest: modelPath must be "model.json" when saving, got ${JSON.stringify(manifest.modelPath)}`);
  const { modelJson, weights } = await serialiseModel(artifact.model);
  const files = [
    { name: 'model.json', body: modelJson, contentType: 'application/json' },
    { name: WEIGHTS_FILE, body: weights, contentType: 'application/octet-stream' },
    { name: MANIFEST_FILE, body: `${JSON.stringify(manifest, null, 2)}\n`, contentType: 'application/json' },
  ];
  if (typeof location === 'string') await saveToDirectory(location, files, options.signal);
  else if ('tarball' in location) throw new ArtifactError(`cannot save an artifact into ${describeArtifactFile(location)}: a model.tar.gz is written whole by the training job that packs it`);
  else await saveToS3(location, files, options.signal);
  return {
    location: describeArtifactFile(location),
    files: files.map((f) => f.name),
    bytes: files.reduce((sum, f) => sum + (typeof f.body === 'string' ? Buffer.byteLength(f.body) : f.body.byteLength), 0),
  };
}

/** Reads one file of an artifact; `undefined` when it does not exist. */
export function readArtifactFile(location: ArtifactLocation, relative: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
  return readStoredFile(storage(location), relative, (message) => new ArtifactError(message), signal);
}

/** Reads and validates `manifest.json`. */
export async function readManifest(location: ArtifactLocation, signal?: AbortSignal): Promise<ModelManifest> {
  const where = describeArtifactFile(location, MANIFEST_FILE);
  const bytes = await readArtifactFile(location, MANIFEST_FILE, signal);
  if (!bytes) throw new ArtifactError(`${where} not found: not a model artifact (or an incomplete one)`);
  try {
    return parseJsonOrThrow(modelManifestSchema, Buffer.from(bytes).toString('utf8'), where);
  } catch (error) {
    if (error instanceof PayloadValidationError) throw new ArtifactError(error.message);
    throw error;
  }
}

/**
 * Throws unless `name` is a plain file name (no directory part, not `.` or `..`): files an artifact
 * names are read from the artifact itself, never from elsewhere on disk or in the bucket.
 */
function checkPlainFileName(name: unknown, field: string, where: string): string {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new ArtifactError(`${where}: ${field} ${JSON.stringify(name)} is not a plain file name inside the artifact`);
  }
  return name;
}

/** Loads the tfjs model an artifact's manifest points to, with errors naming the broken file. */
export async function loadArtifactModel(location: ArtifactLocation, manifest: ModelManifest, signal?: AbortSignal): Promise<tf.LayersModel> {
  const modelPath = checkPlainFileName(manifest.modelPath, 'modelPath', describeArtifactFile(location, MANIFEST_FILE));
  const where = describeArtifactFile(location, modelPath);
  const bytes = await readArtifactFile(location, modelPath, signal);
  if (!bytes) throw new ArtifactError(`${where} not found (named by manifest.json modelPath)`);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(Buffer.from(bytes).toString('utf8')) as tf.io.ModelJSON;
  } catch (error) {
    throw new ArtifactError(`${where}: not valid JSON (${(error as Error).message})`);
  }
  if (!modelJson || typeof modelJson !== 'object' || !modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new ArtifactError(`${where}: not a tfjs model.json (expected modelTopology and weightsManifest)`);
  }
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (weightsManifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: ArrayBuffer[] = [];
    for (const [g, group] of weightsManifest.entries()) {
      if (!Array.isArray(group?.paths) || !Array.isArray(group.weights)) throw new ArtifactError(`${where}: weightsManifest[${g}] needs paths and weights arrays`);
      specs.push(...group.weights);
      for (const [i, path] of group.paths.entries()) {
        const relative = checkPlainFileName(path, `weightsManifest[${g}].paths[${i}]`, where);
        const data = await readArtifactFile(location, relative, signal);
        if (!data) throw new ArtifactError(`${describeArtifactFile(location, relative)} not found (listed in ${where})`);
        buffers.push(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
      }
    }
    const expected = specs.reduce((sum, s) => sum + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
    const actual = buffers.reduce((sum, b) => sum + b.byteLength, 0);
    if (specs.some((s) => s.dtype !== 'float32')) throw new ArtifactError(`${where}: only float32 weights are supported`);
    if (expected !== actual) throw new ArtifactError(`${where}: weights are ${actual} bytes, the manifest describes ${expected}`);
    return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
  });
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    throw new ArtifactError(`${where}: cannot build the model: ${(error as Error).message}`);
  }
  const output = model.outputs[0].shape;
  const input = model.inputs[0].shape;
  const p = manifest.preprocessing;
  const problems: string[] = [];
  if (output[output.length - 1] !== manifest.classNames.length) problems.push(`it outputs ${output[output.length - 1]} classes, manifest.json names ${manifest.classNames.length}`);
  if (input[1] !== p.height || input[2] !== p.width || input[3] !== p.channels) problems.push(`its input is ${input.slice(1).join('×')}, preprocessing gives ${p.height}×${p.width}×${p.channels}`);
  if (problems.length) {
    model.dispose();
    throw new ArtifactError(`${where} does not match manifest.json: ${problems.join('; ')}`);
  }
  return model;
}
