import { setMaxListeners } from 'node:events';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { runLocalTrainingJob, type EpochMetrics } from '@scones/image-classifier';
import { s3ClientConfigFromEnvironment } from '@scones/local-cloud';
import { HyperparameterError, trainerSettings, type TrainerSettings } from './hyperparameters';
import { listKeys, packModelTarball, safeRelativePath } from './model-data';
import { parseS3Uri } from './names';
import { openWorkerChannel } from './worker-channel';
import type { TrainingMetric, TrainingWorkerConfig, TrainingWorkerMessage } from './worker-protocol';

/** A failure of the job's own making (data, hyperparameters), reported like the algorithm's `ClientError:`. */
class ClientError extends Error {
  override readonly name = 'ClientError';
}

/** One log line, the way the built-in algorithm writes them (`[date time INFO pid] message`). */
function logLine(message: string): void {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${pad(now.getUTCMonth() + 1)}/${pad(now.getUTCDate())}/${now.getUTCFullYear()} ${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}`;
  process.stdout.write(`[${stamp} INFO ${process.pid}] ${message}\n`);
}

/**
 * Downloads a channel as SageMaker's File mode does: every object under the S3 prefix, at its
 * path relative to the prefix's last `/` (`s3://b/data/train/` → `a.png`; `s3://b/data/train.lst` → `train.lst`).
 */
async function downloadChannel(s3: S3Client, name: string, uri: string, directory: string, signal: AbortSignal): Promise<number> {
  const location = parseS3Uri(uri);
  if (!location) throw new ClientError(`channel ${name}: ${uri} is not an s3:// URI`);
  const base = location.key.slice(0, location.key.lastIndexOf('/') + 1);
  const keys = (await listKeys(s3, location.bucket, location.key, signal)).filter((k) => !k.key.endsWith('/'));
  if (keys.length === 0) throw new ClientError(`No S3 objects found under S3 URL "${uri}" given in input data source (channel ${name}).`);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const { key } = keys[next++];
      const path = safeRelativePath(key.slice(base.length));
      if (!path) throw new ClientError(`channel ${name}: the object key ${JSON.stringify(key)} would be written outside the channel directory`);
      const file = join(directory, path);
      await mkdir(dirname(file), { recursive: true });
      const answer = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: key }), { abortSignal: signal });
      await pipeline(answer.Body as Readable, createWriteStream(file), { signal });
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, keys.length) }, worker));
  return keys.length;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The one `.lst` file of an lst channel. */
async function lstFileOf(channel: string, directory: string): Promise<string> {
  const found: string[] = [];
  const visit = async (dir: string, prefix: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await visit(join(dir, entry.name), `${prefix}${entry.name}/`);
      else if (entry.name.endsWith('.lst')) found.push(`${prefix}${entry.name}`);
    }
  };
  await visit(directory, '');
  if (found.length !== 1) throw new ClientError(`channel ${channel}: expected exactly one .lst file, found ${found.length ? found.join(', ') : 'none'}`);
  return join(directory, found[0]);
}

/**
 * Lays the downloaded channels out the way the project's trainer reads them (`data/train.lst`,
 * `data/train/`, `data/test.lst`, `data/test/`): the course's four channels (`train` + `train_lst`,
 * `validation` + `validation_lst`), or a `train` channel that already holds that layout (the
 * project's `data/` prefix). The validation channel becomes the trainer's test channel: evaluated
 * once after training (the trainer holds out its own validation split of `train`).
 */
async function layOut(channels: Map<string, string>, trainerData: string): Promise<void> {
  const train = channels.get('train');
  if (!train) throw new ClientError('the train channel is required');
  await mkdir(trainerData, { recursive: true });
  const trainLst = channels.get('train_lst');
  if (trainLst) {
    await copyFile(await lstFileOf('train_lst', trainLst), join(trainerData, 'train.lst'));
    await symlink(train, join(trainerData, 'train'));
    const validation = channels.get('validation');
    if (validation) {
      const validationLst = channels.get('validation_lst');
      if (!validationLst) throw new ClientError('the validation channel needs a validation_lst channel (its .lst file)');
      await copyFile(await lstFileOf('validation_lst', validationLst), join(trainerData, 'test.lst'));
      await symlink(validation, join(trainerData, 'test'));
    }
    return;
  }
  const hasLayout = (await stat(join(train, 'train.lst')).then(() => true, () => false)) && (await isDirectory(join(train, 'train')));
  if (!hasLayout) {
    throw new ClientError('the train channel needs a train_lst channel (a .lst file listing its images), or must hold the project layout (train.lst and train/, optionally test.lst and test/)');
  }
  await rm(trainerData, { recursive: true, force: true });
  await symlink(train, trainerData);
}

function epochLines(m: EpochMetrics): string[] {
  return [
    `Epoch[${m.epoch}] Train-accuracy=${m.trainAccuracy.toFixed(6)}`,
    `Epoch[${m.epoch}] Train-loss=${m.trainLoss.toFixed(6)}`,
    `Epoch[${m.epoch}] Time cost=${m.seconds.toFixed(3)}`,
    `Epoch[${m.epoch}] Validation-accuracy=${m.validationAccuracy.toFixed(6)}`,
  ];
}

/**
 * The process of one training job (worker kind `training`): downloads its S3 channels (File
 * mode), trains with the project's trainer, and uploads `<S3OutputPath>/<job>/output/model.tar.gz`
 * (the artifact files at its root) in one PUT — whole or not at all. Reports its secondary status,
 * metrics and result to the stack; its log lines (stdout) go to CloudWatch Logs. `stop` (or the
 * stack going away) aborts it without writing a model.
 */
export async function trainingWorkerMain(): Promise<number> {
  const channel = await openWorkerChannel<TrainingWorkerConfig>();
  const config = channel.config;
  const send = (message: TrainingWorkerMessage) => channel.send(message);
  const abort = new AbortController();
  // Every channel download, S3 request and training step listens to it: many listeners are expected.
  setMaxListeners(1000, abort.signal);
  void channel.stopped.then((why) => abort.abort(new Error(why === 'stop' ? 'stopped by StopTrainingJob' : 'the local stack went away')));
  const s3 = new S3Client(s3ClientConfigFromEnvironment());
  const work = config.workDirectory;
  try {
    let settings: TrainerSettings;
    try {
      settings = trainerSettings(config.hyperParameters);
    } catch (error) {
      if (error instanceof HyperparameterError) throw new ClientError(error.message);
      throw error;
    }
    logLine(`Reading the hyperparameters: ${JSON.stringify(config.hyperParameters)}`);
    for (const note of settings.notHonoured) logLine(`Hyperparameter not honoured by the local trainer: ${note}`);
    if (config.instanceCount > 1) logLine(`InstanceCount ${config.instanceCount}: the local stack trains on one instance (algo-1)`);

    send({ type: 'status', status: 'Downloading', message: 'Downloading input data' });
    const channels = new Map<string, string>();
    for (const c of config.channels) {
      const directory = join(work, 'input', 'data', c.name);
      const files = await downloadChannel(s3, c.name, c.s3Uri, directory, abort.signal);
      channels.set(c.name, directory);
      logLine(`channel ${c.name}: ${files} file(s) from ${c.s3Uri}`);
    }
    const trainerRoot = join(work, 'trainer');
    await layOut(channels, join(trainerRoot, 'data'));

    send({ type: 'status', status: 'Training', message: 'Training image download completed. Training in progress.' });
    logLine(`Training with the local trainer: preset ${settings.preset}, seed ${settings.seed ?? 'default'}, classes ${settings.classNames.join(', ')}, overrides ${JSON.stringify(settings.config)}`);
    const started = performance.now();
    const modelDirectory = join(work, 'model');
    const result = await runLocalTrainingJob({
      jobName: config.jobName,
      classNames: settings.classNames,
      source: { directory: trainerRoot },
      destination: modelDirectory,
      preset: settings.preset,
      config: settings.config,
      ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
      signal: abort.signal,
      onRead: (name, read, total) => {
        if (read !== total) return;
        logLine(`read ${total} ${name === 'test' ? 'validation' : 'training'} images`);
        if (name === 'train' && total !== settings.numTrainingSamples) {
          logLine(`num_training_samples is ${settings.numTrainingSamples} but the training .lst lists ${total} images; training on all ${total}`);
        }
      },
      onEpoch: (m) => {
        for (const line of epochLines(m)) logLine(line);
        const timestamp = Date.now();
        send({
          type: 'metrics',
          metrics: [
            { name: 'train:accuracy', value: m.trainAccuracy, timestamp },
            { name: 'validation:accuracy', value: m.validationAccuracy, timestamp },
          ],
        });
      },
    });
    const trainingSeconds = (performance.now() - started) / 1000;
    const best = result.manifest.training.history[result.manifest.training.bestEpoch];
    const timestamp = Date.now();
    const metrics: TrainingMetric[] = [{ name: 'train:accuracy', value: best?.trainAccuracy ?? Number.NaN, timestamp }];
    if (result.test) {
      logLine(`#quality_metric: host=algo-1, validation accuracy <score>=${result.test.accuracy} (the validation channel, ${result.test.count} images, evaluated once after training)`);
      metrics.push({ name: 'validation:accuracy', value: result.test.accuracy, timestamp });
    } else {
      logLine(`#quality_metric: host=algo-1, validation accuracy <score>=${result.validation.accuracy} (held out from the train channel; no validation channel)`);
      metrics.push({ name: 'validation:accuracy', value: result.validation.accuracy, timestamp });
    }
    logLine(`best epoch ${result.manifest.training.bestEpoch}; held-out validation accuracy ${result.validation.accuracy}`);

    abort.signal.throwIfAborted();
    send({ type: 'status', status: 'Uploading', message: 'Uploading generated training model' });
    const output = parseS3Uri(config.outputPath);
    if (!output) throw new ClientError(`OutputDataConfig.S3OutputPath ${config.outputPath} is not an s3:// URI`);
    const prefix = output.key && !output.key.endsWith('/') ? `${output.key}/` : output.key;
    const key = `${prefix}${config.jobName}/output/model.tar.gz`;
    const tarball = await packModelTarball(modelDirectory);
    abort.signal.throwIfAborted();
    try {
      await s3.send(new PutObjectCommand({ Bucket: output.bucket, Key: key, Body: tarball, ContentType: 'application/x-tar' }), { abortSignal: abort.signal });
    } catch (error) {
      if (abort.signal.aborted) throw error;
      throw new ClientError(`Could not upload the model to s3://${output.bucket}/${key}: ${(error as Error).name}: ${(error as Error).message}`);
    }
    logLine(`uploaded s3://${output.bucket}/${key} (${tarball.length} bytes)`);
    send({ type: 'completed', artifactUri: `s3://${output.bucket}/${key}`, metrics: metrics.filter((m) => Number.isFinite(m.value)), trainingSeconds });
    return 0;
  } catch (error) {
    if (abort.signal.aborted) {
      logLine(`training stopped: ${(abort.signal.reason as Error)?.message ?? 'stopped'}`);
      send({ type: 'stopped' });
      return 0;
    }
    const message = (error as Error)?.message ?? String(error);
    const reason = error instanceof ClientError || /^(TrainingDataError|TrainingError)$/.test((error as Error)?.name) ? `ClientError: ${message}` : `AlgorithmError: ${message}`;
    process.stderr.write(`${reason}\n`);
    send({ type: 'failed', reason: reason.slice(0, 1024) });
    return 1;
  } finally {
    s3.destroy();
    await rm(work, { recursive: true, force: true }).catch(() => undefined);
    channel.close();
  }
}
