import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  StopTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  type DescribeTrainingJobCommandOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { SageMakerTrainingError } from '../errors';
import { imageClassificationImageUri } from './algorithm-images';

/**
 * The original workflow's training run: the Udacity starter sets image_shape, num_classes and
 * num_training_samples; the rest are the algorithm's defaults (ResNet-152, 30 epochs, SGD with
 * learning rate 0.1, mini-batches of 32), written out so the request documents them.
 */
export const ORIGINAL_HYPERPARAMETERS = {
  image_shape: '3,32,32',
  num_layers: '152',
  epochs: '30',
  learning_rate: '0.1',
  mini_batch_size: '32',
} as const;

export interface SageMakerTrainingJobOptions {
  jobName: string;
  /** IAM role SageMaker assumes to read the data and write the model. */
  roleArn: string;
  region: string;
  /** The bucket holding the staged channels (`<dataPrefix>train/`, `train.lst`, `test/`, `test.lst`). */
  bucket: string;
  /** Default `data/` (where `scones stage` writes). */
  dataPrefix?: string;
  /** Model artifacts go to `s3://<bucket>/<outputPrefix><job>/output/model.tar.gz`. Default `models/`. */
  outputPrefix?: string;
  numClasses: number;
  numTrainingSamples: number;
  /** Overrides the original 30 epochs. */
  epochs?: number;
  /** Default `ml.p3.2xlarge`, the original's. */
  instanceType?: string;
  /** Default 1 hour. */
  maxRuntimeSeconds?: number;
  /**
   * Write out the algorithm's defaults (ORIGINAL_HYPERPARAMETERS) as the original run did. Default
   * true; false sends only what is set here (the local stack's trainer has tuned values of its own).
   */
  algorithmDefaults?: boolean;
  /** More hyperparameters (e.g. the local stack's `scones_preset`, `scones_seed`). */
  extraHyperParameters?: Record<string, string>;
}

function channel(name: string, uri: string) {
  return {
    ChannelName: name,
    ContentType: 'application/x-image',
    CompressionType: 'None' as const,
    InputMode: 'File' as const,
    DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: uri, S3DataDistributionType: 'FullyReplicated' as const } },
  };
}

/**
 * The CreateTrainingJob request of the original workflow: the built-in algorithm, its four
 * channels (as in the starter, the "validation" channel is the staged test split), File mode.
 */
export function createTrainingJobRequest(options: SageMakerTrainingJobOptions): CreateTrainingJobCommandInput {
  const data = `s3://${options.bucket}/${options.dataPrefix ?? 'data/'}`;
  return {
    TrainingJobName: options.jobName,
    RoleArn: options.roleArn,
    AlgorithmSpecification: { TrainingImage: imageClassificationImageUri(options.region), TrainingInputMode: 'File' },
    HyperParameters: {
      ...(options.algorithmDefaults === false ? { image_shape: ORIGINAL_HYPERPARAMETERS.image_shape } : ORIGINAL_HYPERPARAMETERS),
      ...options.extraHyperParameters,
      num_classes: String(options.numClasses),
      num_training_samples: String(options.numTrainingSamples),
      ...(options.epochs !== undefined ? { epochs: String(options.epochs) } : {}),
    },
    InputDataConfig: [
      channel('train', `${data}train/`),
      channel('validation', `${data}test/`),
      channel('train_lst', `${data}train.lst`),
      channel('validation_lst', `${data}test.lst`),
    ],
    OutputDataConfig: { S3OutputPath: `s3://${options.bucket}/${options.outputPrefix ?? 'models/'}` },
    ResourceConfig: { InstanceType: options.instanceType ?? 'ml.p3.2xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
    StoppingCondition: { MaxRuntimeInSeconds: options.maxRuntimeSeconds ?? 3600 },
  } as CreateTrainingJobCommandInput;
}

export interface TrainingJobStatus {
  status: string;
  secondaryStatus?: string;
  /** Seconds since the job was created. */
  elapsedSeconds: number;
  /** Last reported metrics, e.g. `validation:accuracy`. */
  metrics: Record<string, number>;
}

export interface TrainingJobResult extends TrainingJobStatus {
  jobName: string;
  /** `s3://.../<job>/output/model.tar.gz`. */
  modelArtifactUri: string;
  billableSeconds?: number;
}

export interface RunTrainingJobOptions {
  signal?: AbortSignal;
  /** Between DescribeTrainingJob calls. Default 15 s. */
  pollIntervalMs?: number;
  onStatus?(status: TrainingJobStatus): void;
}

function describeFailure(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message ?? String(error)}`;
}

function statusOf(job: DescribeTrainingJobCommandOutput, started: number): TrainingJobStatus {
  const metrics: Record<string, number> = {};
  for (const m of job.FinalMetricDataList ?? []) if (m.MetricName && m.Value !== undefined) metrics[m.MetricName] = m.Value;
  const created = job.CreationTime ? new Date(job.CreationTime).getTime() : started;
  return { status: job.TrainingJobStatus ?? 'Unknown', secondaryStatus: job.SecondaryStatus, elapsedSeconds: Math.max(0, Math.round((Date.now() - created) / 1000)), metrics };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/**
 * Creates the training job and waits for it (DescribeTrainingJob polling). Ctrl-C stops the job
 * (StopTrainingJob) before rethrowing, so an interrupted run does not keep a GPU instance busy.
 */
export async function runSageMakerTrainingJob(client: SageMakerClient, request: CreateTrainingJobCommandInput, options: RunTrainingJobOptions = {}): Promise<TrainingJobResult> {
  const jobName = request.TrainingJobName;
  if (!jobName) throw new SageMakerTrainingError('CreateTrainingJob request without TrainingJobName');
  const started = Date.now();
  try {
    await client.send(new CreateTrainingJobCommand(request), { abortSignal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason ?? error;
    throw new SageMakerTrainingError(`CreateTrainingJob ${jobName}: ${describeFailure(error)}`);
  }
  let last = '';
  try {
    for (;;) {
      let job: DescribeTrainingJobCommandOutput;
      try {
        job = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName }), { abortSignal: options.signal });
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason ?? error;
        throw new SageMakerTrainingError(`DescribeTrainingJob ${jobName}: ${describeFailure(error)}`);
      }
      const status = statusOf(job, started);
      const key = `${status.status}/${status.secondaryStatus ?? ''}`;
      if (key !== last) {
        last = key;
        options.onStatus?.(status);
      }
      if (status.status === 'Completed') {
        const uri = job.ModelArtifacts?.S3ModelArtifacts;
        if (!uri) throw new SageMakerTrainingError(`training job ${jobName} completed without model artifacts`);
        return { ...status, jobName, modelArtifactUri: uri, ...(job.BillableTimeInSeconds !== undefined ? { billableSeconds: job.BillableTimeInSeconds } : {}) };
      }
      if (status.status === 'Failed' || status.status === 'Stopped') {
        throw new SageMakerTrainingError(`training job ${jobName} ${status.status.toLowerCase()}${job.FailureReason ? `: ${job.FailureReason}` : ''}`);
      }
      await sleep(options.pollIntervalMs ?? 15_000, options.signal);
    }
  } catch (error) {
    if (options.signal?.aborted) {
      // A fresh request: the aborted signal would cancel it immediately.
      await client.send(new StopTrainingJobCommand({ TrainingJobName: jobName })).catch(() => undefined);
    }
    throw error;
  }
}
