import type { Command } from 'commander';
import {
  backendInfo,
  checkJobName,
  createTrainingJobRequest,
  defaultJobName,
  runLocalTrainingJob,
  runSageMakerTrainingJob,
  TrainingError,
  TRAINING_PRESETS,
  type ArtifactLocation,
  type DataSource,
  type EpochMetrics,
  type LocalTrainingJobResult,
} from '@scones/image-classifier';
import { createS3Client, createSageMakerClient, startLocalS3, type LocalS3 } from '@scones/local-cloud';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { parseLst } from '@scones/payload-schemas';
import { refuseStackForLocal, resolveAwsBucket } from '../cli/aws-bucket';
import { UsageError } from '../cli/errors';
import type { Output, Progress } from '../cli/output';
import { runCommand, type CommandContext } from '../cli/run-command';
import type { TrainOptions } from './train';

/** `scones train` (train.ts defines its options); resolves to the exit code. */
export function train(options: TrainOptions, command: Command): Promise<number> {
  return runCommand('train', options, async (ctx) => {
    refuseStackForLocal(options, command);
    return options.target === 'aws' ? trainOnSageMaker(options, command, ctx) : trainLocally(options, ctx);
  });
}

function classNames(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  if (names.length < 2 || names.some((n) => n === '')) throw new UsageError(`--classes: expected at least two comma-separated names, got ${JSON.stringify(text)}`);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new UsageError(`--classes: ${JSON.stringify(duplicate)} appears twice`);
  return names;
}

function jobNameOf(options: TrainOptions): string {
  const name = options.jobName ?? defaultJobName();
  try {
    return checkJobName(name);
  } catch (error) {
    if (error instanceof TrainingError) throw new UsageError(`--job-name: ${error.message}`);
    throw error;
  }
}

function epochLine(m: EpochMetrics): string {
  return `Epoch[${m.epoch}] Train-accuracy=${m.trainAccuracy.toFixed(3)} Validation-accuracy=${m.validationAccuracy.toFixed(3)} Train-loss=${m.trainLoss.toFixed(3)} Validation-loss=${m.validationLoss.toFixed(3)} Time-cost=${m.seconds.toFixed(1)}s`;
}

async function trainLocally(options: TrainOptions, { output, signal }: CommandContext): Promise<void> {
  const classes = classNames(options.classes);
  const jobName = jobNameOf(options);
  // --no-threads forces one thread; otherwise the library decides (2 on multi-core machines, SCONES_TFJS_THREADS).
  const backend = await backendInfo(options.threads ? {} : { threads: false });
  let localS3: LocalS3 | undefined;
  try {
    // The embedded S3 runs only when the data or the artifact lives there.
    const bucket = async () => {
      localS3 ??= await startLocalS3({ directory: options.s3Dir, buckets: [options.bucket] });
      return { s3: createS3Client(localS3.target), bucket: options.bucket };
    };
    const source: DataSource = options.data !== undefined ? { directory: options.data } : await bucket();
    const destination: ArtifactLocation = options.out !== undefined ? options.out : { ...(await bucket()), prefix: `models/${jobName}/` };

    const preset = options.quick ? 'quick' : 'full';
    const epochs = options.epochs ?? TRAINING_PRESETS[preset].epochs;
    output.info(`scones train: job ${jobName}, classes ${classes.join(', ')}, ${epochs} epochs (${preset}), seed ${options.seed}, backend ${backend.name} × ${backend.threads} thread(s)${backend.threadsFallback ? ` (${backend.threadsFallback})` : ''}`);
    let reading: Progress | undefined;
    let epochBar: Progress | undefined;
    const tty = Boolean(process.stderr.isTTY);
    let result: LocalTrainingJobResult;
    try {
      result = await runLocalTrainingJob({
        jobName,
        classNames: classes,
        source,
        destination,
        seed: options.seed,
        preset,
        config: { epochs },
        signal,
        onRead: (channel, read, total) => {
          // Reading takes a second or two: a bar on a terminal, one line in logs.
          if (!tty) {
            if (read === total) output.info(`read data/${channel}: ${total} images`);
            return;
          }
          if (read === 1) {
            reading?.stop();
            reading = output.progress(`reading data/${channel}`, total, 'images');
          }
          reading?.update(read);
        },
        onStep: (p) => {
          if (p.step === 1) {
            reading?.stop();
            reading = undefined;
            // A bar per epoch on a terminal; in logs the epoch lines are the progress.
            if (tty) epochBar = output.progress(`Epoch[${p.epoch}]`, p.stepsPerEpoch, 'batches');
          }
          epochBar?.update(p.step);
        },
        onEpoch: (m) => {
          epochBar?.stop();
          epochBar = undefined;
          output.info(epochLine(m));
        },
      });
    } finally {
      reading?.stop();
      epochBar?.stop();
    }
    report(output, result);
  } finally {
    await localS3?.stop();
  }
}

function report(output: Output, result: LocalTrainingJobResult): void {
  const { manifest, artifact, test } = result;
  const best = manifest.training.history[manifest.training.bestEpoch];
  const summary = {
    ok: true,
    command: 'train',
    target: 'local',
    jobName: manifest.jobName,
    location: artifact.location,
    seconds: Math.round(result.seconds * 10) / 10,
    backend: { name: result.backend.name, threads: result.backend.threads },
    bestEpoch: manifest.training.bestEpoch,
    validationAccuracy: best.validationAccuracy,
    test: manifest.test ?? null,
    threshold: manifest.threshold,
    classNames: manifest.classNames,
  };
  output.result(summary, () => {
    const names = manifest.classNames;
    const width = Math.max(10, ...names.map((n) => n.length));
    const pad = (s: string) => s.padEnd(width);
    const lines = [
      `trained ${manifest.jobName} in ${result.seconds.toFixed(1)} s: best epoch ${manifest.training.bestEpoch} of ${manifest.training.epochs}, validation accuracy ${best.validationAccuracy.toFixed(3)} (${manifest.training.validationCount} images)`,
    ];
    if (test) {
      lines.push(`test accuracy ${test.accuracy.toFixed(3)} on ${test.count} images`, '', `${pad('class')}  precision  recall`);
      names.forEach((n, c) => lines.push(`${pad(n)}  ${test.precision[c].toFixed(3).padStart(9)}  ${test.recall[c].toFixed(3).padStart(6)}`));
      lines.push('', 'confusion matrix (rows: true class, columns: predicted)', `${pad('')}  ${names.map((n) => n.padStart(width)).join('  ')}`);
      test.confusionMatrix.forEach((row, c) => lines.push(`${pad(names[c])}  ${row.map((v) => String(v).padStart(width)).join('  ')}`));
      lines.push('');
    } else {
      lines.push('no test channel (data/test.lst): no test figures');
    }
    const t = manifest.threshold;
    lines.push(
      t.precision >= t.targetPrecision
        ? `recommended threshold ${t.value.toFixed(4)}: precision ${t.precision.toFixed(3)} on validation (target ${t.targetPrecision}), passes ${(t.coverage * 100).toFixed(1)} % of images`
        : `no threshold reaches precision ${t.targetPrecision} on validation: recommended threshold 1 (pass nothing)`,
      `model artifact ${artifact.location}`,
    );
    return lines.join('\n');
  });
}

async function countTrainingSamples(options: TrainOptions, region: string | undefined, numClasses: number, signal: AbortSignal): Promise<number> {
  const s3 = createS3Client({ kind: 'aws', region });
  const key = 'data/train.lst';
  let text: string;
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: options.bucket, Key: key }), { abortSignal: signal });
    text = (await answer.Body?.transformToString()) ?? '';
  } catch (error) {
    if (signal.aborted) throw error;
    throw new TrainingError(`cannot read s3://${options.bucket}/${key} (stage the data first: scones stage --target aws --bucket ${options.bucket}): ${(error as Error).message}`);
  } finally {
    s3.destroy();
  }
  const rows = parseLst(text, `s3://${options.bucket}/${key}`);
  const bad = rows.find((r) => r.label >= numClasses);
  if (bad) throw new TrainingError(`s3://${options.bucket}/${key}: label ${bad.label} (${bad.path}) is out of range for ${numClasses} classes`);
  return rows.length;
}

async function trainOnSageMaker(options: TrainOptions, command: Command, { output, signal }: CommandContext): Promise<void> {
  if (options.data !== undefined || options.out !== undefined) throw new UsageError('--data and --out are for local training; leave out --target aws');
  options.bucket = await resolveAwsBucket(options, command, 'the bucket `scones stage --target aws` wrote to', signal);
  if (!options.roleArn) throw new UsageError('--role-arn (or SCONES_SAGEMAKER_ROLE_ARN) is required with --target aws: the IAM role SageMaker uses to read data/ and write models/');
  const classes = classNames(options.classes);
  const jobName = jobNameOf(options);
  const client = createSageMakerClient({ kind: 'aws', region: options.region });
  try {
    const region = options.region ?? (await client.config.region());
    const numTrainingSamples = await countTrainingSamples(options, region, classes.length, signal);
    const request = createTrainingJobRequest({
      jobName,
      roleArn: options.roleArn,
      region,
      bucket: options.bucket,
      numClasses: classes.length,
      numTrainingSamples,
      epochs: options.epochs,
      instanceType: options.instanceType,
    });
    output.info(`scones train: creating SageMaker training job ${jobName} (${request.AlgorithmSpecification?.TrainingImage}, ${options.instanceType}, ${numTrainingSamples} training images) in ${region}`);
    const result = await runSageMakerTrainingJob(client, request, {
      signal,
      onStatus: (s) => output.info(`${jobName}: ${s.status}${s.secondaryStatus ? ` / ${s.secondaryStatus}` : ''} (${Math.floor(s.elapsedSeconds / 60)}m ${s.elapsedSeconds % 60}s)`),
    });
    output.result({ ok: true, command: 'train', target: 'aws', jobName, region, modelArtifactUri: result.modelArtifactUri, seconds: result.elapsedSeconds, billableSeconds: result.billableSeconds ?? null, metrics: result.metrics }, () =>
      [
        `training job ${jobName} completed in ${Math.round(result.elapsedSeconds / 60)} min${result.billableSeconds !== undefined ? ` (${result.billableSeconds} s billable)` : ''}`,
        ...Object.entries(result.metrics).map(([k, v]) => `${k} = ${v}`),
        `model artifact ${result.modelArtifactUri}`,
      ].join('\n'),
    );
  } finally {
    client.destroy();
  }
}
