import { DEFAULT_MAX_BODY_BYTES, parseCaptureDestination, parseLogLevel, type CaptureDestination, type LogLevel } from '@scones/model-server';
import { endpointNameSchema } from '@scones/payload-schemas';

/** Where SageMaker unpacks the model artifact (model.tar.gz) in a hosting container. */
export const SAGEMAKER_MODEL_DIR = '/opt/ml/model';
/** The port SageMaker sends /ping and /invocations to. */
export const SAGEMAKER_PORT = 8080;

export interface ContainerConfig {
  port: number;
  host: string;
  modelDirectory: string;
  endpointName: string;
  /** Off by default: on SageMaker, the platform captures (DataCaptureConfig); locally, set SCONES_CAPTURE. */
  capture?: { destination: CaptureDestination; samplingPercentage: number; flushIntervalMs: number; spoolDirectory?: string };
  maxBodyBytes: number;
  maxBatchSize: number;
  maxQueue: number;
  /** Threads running the model beside the HTTP thread; 0: the model runs on the HTTP thread. */
  inferenceWorkers: number;
  logLevel: LogLevel;
}

/** A bad command line or environment; the entry exits with code 2 and this message. */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

function integerVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ContainerConfigError(`${name}: expected an integer between ${min} and ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * The container's configuration from its arguments and environment. SageMaker starts a
 * bring-your-own-container image as `docker run <image> serve`; `train` is refused (this image only
 * serves).
 *
 * | variable | default |
 * |---|---|
 * | `SAGEMAKER_BIND_TO_PORT`, `PORT` | 8080 |
 * | `SCONES_HOST` | 0.0.0.0 |
 * | `SCONES_MODEL_DIR` | /opt/ml/model |
 * | `SCONES_ENDPOINT_NAME` | scones-endpoint (the name `/endpoints/{name}/invocations` answers to) |
 * | `SCONES_CAPTURE` | off; `s3://bucket[/prefix]` or a directory |
 * | `SCONES_CAPTURE_SAMPLING` | 100 (percent) |
 * | `SCONES_CAPTURE_FLUSH_MS` | 1000 |
 * | `SCONES_CAPTURE_SPOOL` | none; a directory: each record is spooled there before its answer |
 * | `SCONES_MAX_BODY_BYTES` | 6 MB |
 * | `SCONES_MAX_BATCH`, `SCONES_MAX_QUEUE` | 32, 256 |
 * | `SCONES_INFERENCE_WORKERS` | 1 (0: the model runs on the HTTP thread) |
 * | `SCONES_LOG_LEVEL` | info |
 */
export function readContainerConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ContainerConfig {
  const [mode, ...extra] = argv;
  if (mode !== undefined && mode !== 'serve') {
    throw new ContainerConfigError(`unknown command ${JSON.stringify(mode)}: this image only serves (SageMaker runs it as \`serve\`)`);
  }
  if (extra.length) throw new ContainerConfigError(`unexpected arguments after "serve": ${extra.join(' ')}`);

  const endpointName = env.SCONES_ENDPOINT_NAME?.trim() || 'scones-endpoint';
  if (!endpointNameSchema.safeParse(endpointName).success) {
    throw new ContainerConfigError(`SCONES_ENDPOINT_NAME: ${JSON.stringify(endpointName)} is not a valid endpoint name (1-63 letters, digits and hyphens)`);
  }
  const portVar = env.SAGEMAKER_BIND_TO_PORT?.trim() ? 'SAGEMAKER_BIND_TO_PORT' : 'PORT';
  let capture: ContainerConfig['capture'];
  if (env.SCONES_CAPTURE?.trim()) {
    const sampling = Number(env.SCONES_CAPTURE_SAMPLING ?? '100');
    if (!(sampling >= 0 && sampling <= 100)) throw new ContainerConfigError(`SCONES_CAPTURE_SAMPLING: expected a percentage 0-100, got ${JSON.stringify(env.SCONES_CAPTURE_SAMPLING)}`);
    let destination: CaptureDestination;
    try {
      destination = parseCaptureDestination(env.SCONES_CAPTURE);
    } catch (error) {
      throw new ContainerConfigError(`SCONES_CAPTURE: ${(error as Error).message}`);
    }
    const spoolDirectory = env.SCONES_CAPTURE_SPOOL?.trim() || undefined;
    capture = { destination, samplingPercentage: sampling, flushIntervalMs: integerVar(env, 'SCONES_CAPTURE_FLUSH_MS', 1000, 10, 3_600_000), ...(spoolDirectory ? { spoolDirectory } : {}) };
  } else if (env.SCONES_CAPTURE_SPOOL?.trim()) {
    throw new ContainerConfigError('SCONES_CAPTURE_SPOOL: a capture spool needs data capture (set SCONES_CAPTURE)');
  }
  return {
    port: integerVar(env, portVar, SAGEMAKER_PORT, 0, 65535),
    host: env.SCONES_HOST?.trim() || '0.0.0.0',
    modelDirectory: env.SCONES_MODEL_DIR?.trim() || SAGEMAKER_MODEL_DIR,
    endpointName,
    capture,
    maxBodyBytes: integerVar(env, 'SCONES_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1, 1024 * 1024 * 1024),
    maxBatchSize: integerVar(env, 'SCONES_MAX_BATCH', 32, 1, 1024),
    maxQueue: integerVar(env, 'SCONES_MAX_QUEUE', 256, 1, 100_000),
    inferenceWorkers: integerVar(env, 'SCONES_INFERENCE_WORKERS', 1, 0, 16),
    logLevel: parseLogLevel(env.SCONES_LOG_LEVEL),
  };
}
