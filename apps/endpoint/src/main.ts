// The inference container's entry: SageMaker runs `docker run <image> serve` and talks to port 8080
// (GET /ping, POST /invocations). Locally the same file serves the SageMaker Runtime API too. The
// same file is the script of the inference worker threads (the app is one bundled file).
import { S3Client } from '@aws-sdk/client-s3';
import { backendInfo, loadClassifier } from '@scones/image-classifier';
import { s3ClientConfig, s3ClientConfigFromEnvironment } from '@scones/local-cloud';
import { createCaptureSink, createJsonLogger, isInferenceWorker, serveInferenceWorker, servingThreads, startInferenceWorkers, startModelEndpoint } from '@scones/model-server';
import { ContainerConfigError, readContainerConfig, type ContainerConfig } from './lib/container-config';

async function main(): Promise<number> {
  let config: ContainerConfig;
  try {
    config = readContainerConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ContainerConfigError)) throw error;
    process.stderr.write(`endpoint: ${error.message}\n`);
    return 2;
  }
  const logger = createJsonLogger({ level: config.logLevel, base: { service: 'endpoint', endpoint: config.endpointName } });
  const destination = config.capture?.destination;
  // AWS credentials and region come from the environment; AWS_ENDPOINT_URL_S3 points at another S3.
  const s3 = destination?.kind === 's3' ? new S3Client({ ...s3ClientConfig({ kind: 'aws' }), ...s3ClientConfigFromEnvironment() }) : undefined;

  const endpoint = await startModelEndpoint({
    endpointName: config.endpointName,
    loadPredictor: async () => {
      if (config.inferenceWorkers === 0) {
        logger.info('TensorFlow.js backend ready', { backend: await backendInfo({ threads: servingThreads() }), inferenceWorkers: 0 });
        return loadClassifier(config.modelDirectory);
      }
      const workers = await startInferenceWorkers({ script: __filename, modelDirectory: config.modelDirectory, workers: config.inferenceWorkers, logger });
      logger.info('TensorFlow.js backend ready', { backend: workers.info.backend, inferenceWorkers: config.inferenceWorkers });
      return workers;
    },
    listen: { port: config.port, host: config.host },
    capture: config.capture &&
      destination && {
        sink: createCaptureSink(destination, s3),
        prefix: destination.prefix,
        samplingPercentage: config.capture.samplingPercentage,
        flushIntervalMs: config.capture.flushIntervalMs,
        spoolDirectory: config.capture.spoolDirectory,
      },
    maxBodyBytes: config.maxBodyBytes,
    batching: { maxBatchSize: config.maxBatchSize, maxQueue: config.maxQueue },
    logger,
  });

  // SageMaker stops a container with SIGTERM (then SIGKILL after a grace period): finish the
  // requests in progress and write the pending capture within it.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      endpoint.close().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error('stopped with an error', { error });
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  try {
    await endpoint.ready;
  } catch {
    // Already logged by the endpoint; a container that cannot load its model must not look healthy.
    await endpoint.close().catch(() => undefined);
    return 1;
  }
  return stopped;
}

if (isInferenceWorker()) {
  serveInferenceWorker();
} else {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', message: 'endpoint failed to start', error: { name: (error as Error)?.name, message: (error as Error)?.message ?? String(error) } })}\n`);
      process.exit(1);
    },
  );
}
