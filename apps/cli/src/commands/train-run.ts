import type { Command } from 'commander';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  artifactAtUrl,
  backendInfo,
  checkJobName,
  createTrainingJobRequest,
  defaultJobName,
  readManifest,
  runLocalTrainingJob,
  runSageMakerTrainingJob,
  TrainingError,
  TrainingLogFollower,
  TRAINING_PRESETS,
  type EpochMetrics,
} from '@scones/image-classifier';
import { createLogsClient, createS3Client, createSageMakerClient, LOCAL_ROLE_ARN } from '@scones/local-cloud';
import { bucketLayout, parseLst, type ModelManifest } from '@scones/payload-schemas';
import { refuseStackForLocal, resolveAwsBucket } from '../cli/aws-bucket';
import { formatThreshold } from '../cli/format';
import { UsageError } from '../cli/errors';
import type { Output } from '../cli/output';
import { runCommand, type CommandContext } from '../cli/run-command';
import { openTarget } from '../cli/target';
import type { TrainOptions } from './train';

/** `scones train` (train.ts defines its options); resolves to the exit code. */
export function train(options: TrainOptions, command: Command): Promise<number> {
  return runCommand('train', options, async (ctx) => {
    refuseStackForLocal(options, command);
    const classes = classNames(options.classes);
    const jobName = jobNameOf(options);
    if (options.data !== undefined || options.out !== undefined) return trainFromDirectory(options, classes, jobName, ctx);
    return trainJob(options, command, classes, jobName, ctx);
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

/**
 * `--data <dir>` / `--out <dir>`: the trainer on directories written by `scones stage --out`, in
 * this process — no stack, no bucket (for notebooks and experiments on files).
 */
async function trainFromDirectory(options: TrainOptions, classes: string[], jobName: string, { output, signal }: CommandContext): Promise<void> {
  if (options.target === 'aws') throw new UsageError('--data and --out train from and to directories in this process; leave out --target aws');
  if (options.data === undefined || options.out === undefined) throw new UsageError('--data and --out go together (train from a staged directory into an artifact directory); without them the job runs on the local stack');
  const backend = await backendInfo();
  const preset = options.quick ? 'quick' : 'full';
  const epochs = options.epochs ?? TRAINING_PRESETS[preset].epochs;
  output.info(`scones train: job ${jobName}, classes ${classes.join(', ')}, ${epochs} epochs (${preset}), seed ${options.seed}, backend ${backend.name} × ${backend.threads} thread(s)`);
  const started = performance.now();
  const result = await runLocalTrainingJob({
    jobName,
    classNames: classes,
    source: { directory: options.data },
    destination: options.out,
    seed: options.seed,
    preset,
    config: { epochs },
    signal,
    onEpoch: (m) => output.info(epochLine(m)),
  });
  report(output, { target: 'local', jobName, location: result.artifact.location, seconds: (performance.now() - started) / 1000, manifest: result.manifest, metrics: {} });
}

/**
 * A training job through the SageMaker API — on the local stack (the project's trainer runs it)
 * or on AWS (the built-in algorithm): CreateTrainingJob, the job's log followed through
 * CloudWatch Logs, DescribeTrainingJob until it ends (Ctrl-C stops the job).
 */
async function trainJob(options: TrainOptions, command: Command, classes: string[], jobName: string, { output, signal }: CommandContext): Promise<void> {
  const aws = options.target === 'aws';
  if (aws) {
    for (const local of ['quick', 'seed'] as const) {
      if (command.getOptionValueSource(local) === 'cli') throw new UsageError(`--${local} applies to the local stack's trainer only (on AWS the built-in algorithm trains)`);
    }
    options.bucket = await resolveAwsBucket(options, command, 'the bucket `scones stage --target aws` wrote to', signal);
    if (!options.roleArn) throw new UsageError('--role-arn (or SCONES_SAGEMAKER_ROLE_ARN) is required with --target aws: the IAM role SageMaker uses to read data/ and write models/');
  }
  const layout = bucketLayout(options.dataPrefix);
  const target = await openTarget(options, output);
  const sagemaker = createSageMakerClient(target.target);
  const s3 = createS3Client(target.target);
  const logs = createLogsClient(target.target);
  try {
    const region = target.kind === 'local' ? String(target.stack?.region) : (options.region ?? (await sagemaker.config.region()));
    const numTrainingSamples = await countTrainingSamples(s3, options.bucket, layout.trainManifest, classes.length, aws, signal);
    const preset = options.quick ? 'quick' : 'full';
    const request = createTrainingJobRequest({
      jobName,
      roleArn: options.roleArn ?? LOCAL_ROLE_ARN,
      region,
      bucket: options.bucket,
      dataPrefix: layout.dataPrefix,
      outputPrefix: layout.modelsPrefix,
      numClasses: classes.length,
      numTrainingSamples,
      epochs: options.epochs,
      instanceType: options.instanceType,
      // The local trainer has tuned settings of its own; these are its extensions (AWS's algorithm refuses unknown ones).
      algorithmDefaults: aws,
      extraHyperParameters: aws ? undefined : { scones_preset: preset, scones_class_names: classes.join(','), scones_seed: String(options.seed) },
    });
    output.info(
      `scones train: training job ${jobName} on ${aws ? `SageMaker in ${region}` : `the local stack (${target.url})`}: ${aws ? request.AlgorithmSpecification?.TrainingImage : `${preset} preset, seed ${options.seed}`}, ${numTrainingSamples} training images, classes ${classes.join(', ')}`,
    );
    const follower = new TrainingLogFollower(logs, jobName, (line) => output.info(`  ${line}`));
    const following = new AbortController();
    const followed = follower.follow(following.signal, aws ? 10_000 : 1000);
    let result: Awaited<ReturnType<typeof runSageMakerTrainingJob>>;
    try {
      result = await runSageMakerTrainingJob(sagemaker, request, {
        signal,
        pollIntervalMs: aws ? 15_000 : 1000,
        onStatus: (s) => output.info(`${jobName}: ${s.status}${s.secondaryStatus ? ` / ${s.secondaryStatus}` : ''} (${Math.floor(s.elapsedSeconds / 60)}m ${s.elapsedSeconds % 60}s)`),
      });
    } finally {
      following.abort();
      await followed;
      if (!signal.aborted) await follower.poll().catch(() => undefined);
    }
    const manifest = aws ? undefined : await readManifest(artifactAtUrl(s3, result.modelArtifactUri), signal);
    report(output, { target: target.kind, jobName, location: result.modelArtifactUri, seconds: result.elapsedSeconds, manifest, metrics: result.metrics, billableSeconds: result.billableSeconds });
  } finally {
    sagemaker.destroy();
    s3.destroy();
    logs.destroy();
    await target.close();
  }
}

async function countTrainingSamples(s3: S3Client, bucket: string, key: string, numClasses: number, aws: boolean, signal: AbortSignal): Promise<number> {
  let text: string;
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    text = (await answer.Body?.transformToString()) ?? '';
  } catch (error) {
    if (signal.aborted) throw error;
    throw new TrainingError(`cannot read s3://${bucket}/${key} (stage the data first: scones stage${aws ? ` --target aws --bucket ${bucket}` : ''}): ${(error as Error).message}`);
  }
  const rows = parseLst(text, `s3://${bucket}/${key}`);
  const bad = rows.find((r) => r.label >= numClasses);
  if (bad) throw new TrainingError(`s3://${bucket}/${key}: label ${bad.label} (${bad.path}) is out of range for ${numClasses} classes`);
  return rows.length;
}

interface TrainResult {
  target: 'local' | 'aws';
  jobName: string;
  location: string;
  seconds: number;
  /** The project's model manifest (local trainer); the built-in algorithm on AWS has none. */
  manifest?: ModelManifest;
  metrics: Record<string, number>;
  billableSeconds?: number;
}

function report(output: Output, r: TrainResult): void {
  const { manifest } = r;
  const best = manifest?.training.history[manifest.training.bestEpoch];
  const summary = {
    ok: true,
    command: 'train',
    target: r.target,
    jobName: r.jobName,
    location: r.location,
    seconds: Math.round(r.seconds * 10) / 10,
    metrics: r.metrics,
    ...(r.billableSeconds !== undefined ? { billableSeconds: r.billableSeconds } : {}),
    ...(manifest && best
      ? {
          bestEpoch: manifest.training.bestEpoch,
          validationAccuracy: best.validationAccuracy,
          test: manifest.test ?? null,
          threshold: manifest.threshold,
          classNames: manifest.classNames,
          preset: manifest.training.hyperparameters.preset ?? null,
        }
      : {}),
  };
  output.result(summary, () => {
    if (!manifest || !best) {
      return [`training job ${r.jobName} completed in ${Math.round(r.seconds / 60)} min${r.billableSeconds !== undefined ? ` (${r.billableSeconds} s billable)` : ''}`, ...Object.entries(r.metrics).map(([k, v]) => `${k} = ${v}`), `model artifact ${r.location}`].join(
        '\n',
      );
    }
    const names = manifest.classNames;
    const width = Math.max(10, ...names.map((n) => n.length));
    const pad = (s: string) => s.padEnd(width);
    const lines = [
      `trained ${manifest.jobName} in ${r.seconds.toFixed(1)} s: best epoch ${manifest.training.bestEpoch} of ${manifest.training.epochs}, validation accuracy ${best.validationAccuracy.toFixed(3)} (${manifest.training.validationCount} images)`,
    ];
    const test = manifest.test;
    if (test) {
      lines.push(`test accuracy ${test.accuracy.toFixed(3)} on ${test.count} images`, '', `${pad('class')}  precision  recall`);
      names.forEach((n, c) => lines.push(`${pad(n)}  ${test.precision[c].toFixed(3).padStart(9)}  ${test.recall[c].toFixed(3).padStart(6)}`));
      lines.push('', 'confusion matrix (rows: true class, columns: predicted)', `${pad('')}  ${names.map((n) => n.padStart(width)).join('  ')}`);
      test.confusionMatrix.forEach((row, c) => lines.push(`${pad(names[c])}  ${row.map((v) => String(v).padStart(width)).join('  ')}`));
      lines.push('');
    } else {
      lines.push('no test channel (test.lst): no test figures');
    }
    const t = manifest.threshold;
    lines.push(
      t.precision >= t.targetPrecision
        ? `recommended threshold ${formatThreshold(t.value)}: precision ${t.precision.toFixed(3)} on validation (target ${t.targetPrecision}), passes ${(t.coverage * 100).toFixed(1)} % of images`
        : `no threshold reaches precision ${t.targetPrecision} on validation: recommended threshold 1 (pass nothing)`,
      `model artifact ${r.location}`,
    );
    return lines.join('\n');
  });
}
