import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  ListTrainingJobsCommand,
  UpdateEndpointCommand,
  type DataCaptureConfig,
  type ProductionVariantInstanceType,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { DATA_CAPTURE_PREFIX, DEFAULT_VARIANT, ENDPOINT_NAME_PATTERN } from '@scones/payload-schemas';
import { ModelServerConfigError, ModelServerError } from '../errors';

/** SageMaker refused or failed a deployment step; the message names the step and resource. */
export class SageMakerDeploymentError extends ModelServerError {
  override readonly name = 'SageMakerDeploymentError';
}

export interface SageMakerDeploymentOptions {
  endpointName: string;
  /** Bucket of the capture destination `s3://<bucket>/data_capture`. */
  bucket: string;
  /** Training job whose artifact (and, by default, image and role) is deployed. Default: the newest completed one. */
  trainingJobName?: string;
  /** Model artifact `s3://.../model.tar.gz`; with it, `image` and `roleArn` are needed instead of a job. */
  modelDataUrl?: string;
  /** Inference image; default the training job's image (the built-in algorithms serve with the image they train with). */
  image?: string;
  /** Execution role of the model; default the training job's role. */
  roleArn?: string;
  samplingPercentage?: number;
  instanceType?: string;
  instanceCount?: number;
  /** How long to wait for InService, in ms. Default 30 minutes. */
  waitTimeoutMs?: number;
  /** Between DescribeEndpoint polls, in ms. Default 15 s. */
  pollIntervalMs?: number;
  signal?: AbortSignal;
  /** Called for each step and each endpoint status change. */
  onProgress?(message: string): void;
  now?: () => Date;
}

export interface SageMakerDeployment {
  endpointName: string;
  endpointArn?: string;
  modelName: string;
  endpointConfigName: string;
  modelDataUrl: string;
  image: string;
  trainingJobName?: string;
  captureDestination: string;
  /** Whether an existing endpoint was switched to the new configuration instead of created. */
  updated: boolean;
  status: 'InService';
}

export const DEFAULT_INSTANCE_TYPE = 'ml.m5.large';

/** SageMaker Model Monitor's capture settings for this endpoint: input and output, JSON output as text, images base64. */
export function dataCaptureConfig(bucket: string, samplingPercentage = 100): DataCaptureConfig {
  return {
    EnableCapture: true,
    InitialSamplingPercentage: samplingPercentage,
    DestinationS3Uri: `s3://${bucket}/${DATA_CAPTURE_PREFIX}`,
    CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
    // Content types listed here are captured as text ("encoding": "JSON"); everything else, such
    // as the image/png input, base64-encoded — the record format the monitoring report reads.
    CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
  };
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** `<endpoint>-<yyyymmdd-hhmmss>`, shortened to SageMaker's 63-character limit. */
function resourceName(endpointName: string, now: Date): string {
  const suffix = `-${timestamp(now)}`;
  return `${endpointName.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

function describe(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

async function step<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if ((error as Error)?.name === 'AbortError' || error instanceof SageMakerDeploymentError) throw error;
    throw new SageMakerDeploymentError(`${what}: ${describe(error)}`, { cause: error });
  }
}

/**
 * Deploys a model to a SageMaker real-time endpoint with data capture, as the original workflow
 * did with `model.deploy(..., data_capture_config=...)`: CreateModel, CreateEndpointConfig
 * (variant AllTraffic, DataCaptureConfig to `s3://<bucket>/data_capture`), then CreateEndpoint —
 * or UpdateEndpoint when the endpoint already exists — and waits until it is InService.
 */
export async function deployToSageMaker(client: SageMakerClient, options: SageMakerDeploymentOptions): Promise<SageMakerDeployment> {
  const { endpointName, signal } = options;
  const progress = options.onProgress ?? (() => undefined);
  if (!ENDPOINT_NAME_PATTERN.test(endpointName)) throw new ModelServerConfigError(`endpoint name ${JSON.stringify(endpointName)}: expected 1-63 letters, digits and hyphens`);
  const sampling = options.samplingPercentage ?? 100;
  if (!(sampling >= 0 && sampling <= 100)) throw new ModelServerConfigError(`sampling percentage: expected 0..100, got ${sampling}`);

  let trainingJobName = options.trainingJobName;
  let modelDataUrl = options.modelDataUrl;
  let image = options.image;
  let roleArn = options.roleArn;
  if (!modelDataUrl || !image || !roleArn) {
    if (!trainingJobName) {
      const listed = await step('ListTrainingJobs', () =>
        client.send(new ListTrainingJobsCommand({ SortBy: 'CreationTime', SortOrder: 'Descending', StatusEquals: 'Completed', MaxResults: 1 }), { abortSignal: signal }),
      );
      trainingJobName = listed.TrainingJobSummaries?.[0]?.TrainingJobName;
      if (!trainingJobName) throw new SageMakerDeploymentError('no completed SageMaker training job in this account and region: name one with --job, or give --model-data, --image and --role-arn');
      progress(`newest completed training job: ${trainingJobName}`);
    }
    const job = await step(`DescribeTrainingJob ${trainingJobName}`, () => client.send(new DescribeTrainingJobCommand({ TrainingJobName: trainingJobName }), { abortSignal: signal }));
    if (job.TrainingJobStatus !== 'Completed') {
      throw new SageMakerDeploymentError(`training job ${trainingJobName} is ${job.TrainingJobStatus ?? 'in an unknown state'}, not Completed${job.FailureReason ? `: ${job.FailureReason}` : ''}`);
    }
    modelDataUrl ??= job.ModelArtifacts?.S3ModelArtifacts;
    image ??= job.AlgorithmSpecification?.TrainingImage;
    roleArn ??= job.RoleArn;
    if (!modelDataUrl) throw new SageMakerDeploymentError(`training job ${trainingJobName} has no model artifact (ModelArtifacts.S3ModelArtifacts)`);
    if (!image) throw new SageMakerDeploymentError(`training job ${trainingJobName} names no training image; give the inference image with --image`);
    if (!roleArn) throw new SageMakerDeploymentError(`training job ${trainingJobName} names no role; give --role-arn`);
  }

  const now = (options.now ?? (() => new Date()))();
  const modelName = resourceName(endpointName, now);
  const endpointConfigName = modelName;
  const captureConfig = dataCaptureConfig(options.bucket, sampling);

  progress(`creating model ${modelName} (${image}, ${modelDataUrl})`);
  await step(`CreateModel ${modelName}`, () =>
    client.send(new CreateModelCommand({ ModelName: modelName, ExecutionRoleArn: roleArn, PrimaryContainer: { Image: image, ModelDataUrl: modelDataUrl } }), { abortSignal: signal }),
  );
  progress(`creating endpoint configuration ${endpointConfigName} (data capture to ${captureConfig.DestinationS3Uri})`);
  await step(`CreateEndpointConfig ${endpointConfigName}`, () =>
    client.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: endpointConfigName,
        ProductionVariants: [
          {
            VariantName: DEFAULT_VARIANT,
            ModelName: modelName,
            InitialInstanceCount: options.instanceCount ?? 1,
            // Any instance type SageMaker offers; it validates the name itself.
            InstanceType: (options.instanceType ?? DEFAULT_INSTANCE_TYPE) as ProductionVariantInstanceType,
            InitialVariantWeight: 1,
          },
        ],
        DataCaptureConfig: captureConfig,
      }),
      { abortSignal: signal },
    ),
  );

  const exists = await endpointExists(client, endpointName, signal);
  if (exists) {
    progress(`updating endpoint ${endpointName} to ${endpointConfigName}`);
    await step(`UpdateEndpoint ${endpointName}`, () => client.send(new UpdateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: endpointConfigName }), { abortSignal: signal }));
  } else {
    progress(`creating endpoint ${endpointName}`);
    await step(`CreateEndpoint ${endpointName}`, () => client.send(new CreateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: endpointConfigName }), { abortSignal: signal }));
  }
  const endpointArn = await waitForInService(client, endpointName, options, progress);
  return {
    endpointName,
    endpointArn,
    modelName,
    endpointConfigName,
    modelDataUrl,
    image,
    trainingJobName,
    captureDestination: `s3://${options.bucket}/${DATA_CAPTURE_PREFIX}`,
    updated: exists,
    status: 'InService',
  };
}

async function endpointExists(client: SageMakerClient, endpointName: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await client.send(new DescribeEndpointCommand({ EndpointName: endpointName }), { abortSignal: signal });
    return true;
  } catch (error) {
    // SageMaker answers a missing endpoint with ValidationException "Could not find endpoint ...".
    if ((error as Error)?.name === 'ValidationException' && /could not find/i.test((error as Error).message)) return false;
    if ((error as Error)?.name === 'AbortError') throw error;
    throw new SageMakerDeploymentError(`DescribeEndpoint ${endpointName}: ${describe(error)}`, { cause: error });
  }
}

async function waitForInService(
  client: SageMakerClient,
  endpointName: string,
  options: SageMakerDeploymentOptions,
  progress: (message: string) => void,
): Promise<string | undefined> {
  const timeoutMs = options.waitTimeoutMs ?? 30 * 60_000;
  const interval = options.pollIntervalMs ?? 15_000;
  const started = Date.now();
  let last: string | undefined;
  for (;;) {
    const described = await step(`DescribeEndpoint ${endpointName}`, () => client.send(new DescribeEndpointCommand({ EndpointName: endpointName }), { abortSignal: options.signal }));
    const status = described.EndpointStatus ?? 'Unknown';
    if (status !== last) {
      progress(`endpoint ${endpointName}: ${status} (${Math.round((Date.now() - started) / 1000)} s)`);
      last = status;
    }
    if (status === 'InService') return described.EndpointArn;
    if (status === 'Failed' || status === 'OutOfService' || status === 'RollingBack') {
      throw new SageMakerDeploymentError(`endpoint ${endpointName} is ${status}${described.FailureReason ? `: ${described.FailureReason}` : ''}`);
    }
    if (Date.now() - started + interval > timeoutMs) {
      throw new SageMakerDeploymentError(`endpoint ${endpointName} is still ${status} after ${Math.round(timeoutMs / 1000)} s; it keeps deploying in AWS (check the SageMaker console)`);
    }
    await sleep(interval, undefined, { signal: options.signal });
  }
}

export interface DeployedModel {
  endpointName: string;
  endpointStatus: string;
  modelName: string;
  /** `s3://…/model.tar.gz`, or an S3 prefix (uncompressed model data). */
  modelDataUrl?: string;
  image?: string;
}

/**
 * What an endpoint serves: DescribeEndpoint → DescribeEndpointConfig (its first production
 * variant) → DescribeModel. A missing endpoint is an error naming it.
 */
export async function describeDeployedModel(client: SageMakerClient, endpointName: string, signal?: AbortSignal): Promise<DeployedModel> {
  const endpoint = await step(`DescribeEndpoint ${endpointName}`, () => client.send(new DescribeEndpointCommand({ EndpointName: endpointName }), { abortSignal: signal }));
  const configName = endpoint.EndpointConfigName;
  if (!configName) throw new SageMakerDeploymentError(`endpoint ${endpointName} names no endpoint configuration`);
  const config = await step(`DescribeEndpointConfig ${configName}`, () => client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }), { abortSignal: signal }));
  const modelName = config.ProductionVariants?.[0]?.ModelName;
  if (!modelName) throw new SageMakerDeploymentError(`endpoint configuration ${configName} has no production variant with a model`);
  const model = await step(`DescribeModel ${modelName}`, () => client.send(new DescribeModelCommand({ ModelName: modelName }), { abortSignal: signal }));
  const container = model.PrimaryContainer ?? model.Containers?.[0];
  const modelDataUrl = container?.ModelDataUrl ?? container?.ModelDataSource?.S3DataSource?.S3Uri;
  return {
    endpointName,
    endpointStatus: endpoint.EndpointStatus ?? 'Unknown',
    modelName,
    ...(modelDataUrl ? { modelDataUrl } : {}),
    ...(container?.Image ? { image: container.Image } : {}),
  };
}
