import type { ModelManifest } from '@scones/payload-schemas';
import { TrainingError } from '../errors';
import { saveArtifact, type ArtifactFiles, type ArtifactLocation } from './artifact';
import { backendInfo, type BackendInfo } from './backend';
import type { Evaluation } from './evaluation';
import { hasChannel, readChannel, type Channel, type DataSource } from './training-data';
import { trainClassifier, type EpochMetrics, type StepProgress, type TrainOptions } from './train';

/** SageMaker's rule for training job names, also safe as an S3 key segment and a directory name. */
const JOB_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** Throws a {@link TrainingError} unless `name` is a valid job name (1–63 letters, digits, hyphens). */
export function checkJobName(name: string): string {
  if (!JOB_NAME.test(name)) throw new TrainingError(`job name ${JSON.stringify(name)}: expected 1-63 letters, digits and hyphens, starting and ending with a letter or digit`);
  return name;
}

/** `<base>-YYYY-MM-DD-HH-MM-SS-mmm` (UTC), the way the SageMaker SDK names jobs. */
export function defaultJobName(base = 'scones-image-classification', now = new Date()): string {
  return `${base}-${now.toISOString().replace(/[:T.]/g, '-').replace(/Z$/, '')}`;
}

export interface LocalTrainingJobOptions {
  jobName: string;
  classNames: string[];
  /** Staged channels: `data/train.lst` + `data/train/`, and optionally the test channel. */
  source: DataSource;
  /** Where the artifact goes: a directory, or an S3 prefix such as `models/<job>/`. */
  destination: ArtifactLocation;
  seed?: number;
  preset?: TrainOptions['preset'];
  config?: TrainOptions['config'];
  signal?: AbortSignal;
  onRead?(channel: Channel, read: number, total: number): void;
  onStep?(progress: StepProgress): void;
  onEpoch?(metrics: EpochMetrics): void;
}

export interface LocalTrainingJobResult {
  manifest: ModelManifest;
  artifact: ArtifactFiles;
  validation: Evaluation;
  test?: Evaluation;
  backend: BackendInfo;
  /** Wall time from reading the data to the written artifact. */
  seconds: number;
}

/**
 * A local training job, like a SageMaker one: reads the staged channels, trains, and writes the
 * model artifact (only once training has completed; an interrupted job writes nothing).
 */
export async function runLocalTrainingJob(options: LocalTrainingJobOptions): Promise<LocalTrainingJobResult> {
  const started = performance.now();
  checkJobName(options.jobName);
  const backend = await backendInfo();
  const read = (channel: Channel) =>
    readChannel(options.source, channel, {
      numClasses: options.classNames.length,
      classNames: options.classNames,
      signal: options.signal,
      onProgress: (n, total) => options.onRead?.(channel, n, total),
    });
  const train = await read('train');
  const test = (await hasChannel(options.source, 'test', options.signal)) ? await read('test') : undefined;
  const trained = await trainClassifier({
    jobName: options.jobName,
    classNames: options.classNames,
    train,
    test,
    seed: options.seed,
    preset: options.preset,
    config: options.config,
    signal: options.signal,
    onStep: options.onStep,
    onEpoch: options.onEpoch,
  });
  try {
    const artifact = await saveArtifact(trained, options.destination, { signal: options.signal });
    return {
      manifest: trained.manifest,
      artifact,
      validation: trained.validation,
      ...(trained.test ? { test: trained.test } : {}),
      backend,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    trained.model.dispose();
  }
}
