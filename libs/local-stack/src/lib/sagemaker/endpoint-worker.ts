import { S3Client } from '@aws-sdk/client-s3';
import { backendInfo, loadClassifier } from '@scones/image-classifier';
import { s3ClientConfigFromEnvironment } from '@scones/local-cloud';
import { createCaptureSink, createJsonLogger, parseCaptureDestination, parseLogLevel, servingThreads, startModelEndpoint, type ModelEndpoint } from '@scones/model-server';
import { materializeModelData } from './model-data';
import { openWorkerChannel } from './worker-channel';
import type { EndpointWorkerConfig, EndpointWorkerMessage } from './worker-protocol';

/** How long a stop may take to finish requests and write capture before the worker gives up. */
const STOP_TIMEOUT_MS = 10_000;
/** When the stack is gone, S3 is too: what is not written stays in the spool for the next start. */
const ORPHAN_EXIT_MS = 1_500;

/**
 * The process behind one endpoint (worker kind `endpoint`): fetches and unpacks the model data
 * from the stack's S3 (once; kept across restarts), serves it with the project's model server on
 * a free loopback port, and writes data capture to the stack's S3 through the stack's URL. Exits
 * when asked to stop (after flushing capture) or when the stack disappears.
 */
export async function endpointWorkerMain(): Promise<number> {
  // performance.now() counts from this process's start: what starting Node and loading the code took.
  const loadedAt = performance.now();
  const channel = await openWorkerChannel<EndpointWorkerConfig>();
  const config = channel.config;
  const send = (message: EndpointWorkerMessage) => channel.send(message);
  const logger = createJsonLogger({ level: parseLogLevel(config.logLevel), base: { service: 'endpoint', endpoint: config.endpointName, variant: config.variantName } });
  const s3 = new S3Client(s3ClientConfigFromEnvironment());
  let endpoint: ModelEndpoint | undefined;
  try {
    const fetchedModel = await materializeModelData(s3, config.modelData, config.modelDirectory);
    const fetchedAt = performance.now();
    const destination = config.capture ? parseCaptureDestination(config.capture.destination) : undefined;
    endpoint = await startModelEndpoint({
      endpointName: config.endpointName,
      variant: config.variantName,
      loadPredictor: async () => {
        await backendInfo({ threads: servingThreads() });
        return loadClassifier(config.modelDirectory);
      },
      listen: { port: 0, host: '127.0.0.1' },
      capture:
        config.capture && destination
          ? {
              sink: createCaptureSink(destination, s3),
              prefix: destination.prefix,
              samplingPercentage: config.capture.samplingPercentage,
              spoolDirectory: config.capture.spoolDirectory,
              variant: config.variantName,
            }
          : undefined,
      logger,
    });
    await endpoint.ready;
    const cpu = process.cpuUsage();
    const timings = {
      processStartToCodeLoadedMs: Math.round(loadedAt),
      modelDataMs: Math.round(fetchedAt - loadedAt),
      modelLoadMs: Math.round(performance.now() - fetchedAt),
      processStartToReadyMs: Math.round(performance.now()),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    };
    logger.info('endpoint ready', { port: endpoint.server.port, fetchedModel, ...timings });
    send({ type: 'ready', port: endpoint.server.port, fetchedModel, timings });
  } catch (error) {
    const reason = failureReason(error);
    logger.error('endpoint could not start', { reason });
    send({ type: 'failed', reason });
    await endpoint?.close({ timeoutMs: 1000 }).catch(() => undefined);
    s3.destroy();
    channel.close();
    return 1;
  }

  const why = await channel.stopped;
  let code = 0;
  if (why === 'disconnect') {
    logger.warn('the stack went away; stopping (unwritten capture stays in the spool)');
    setTimeout(() => process.exit(1), ORPHAN_EXIT_MS).unref();
  }
  try {
    await endpoint.close({ timeoutMs: why === 'disconnect' ? 500 : STOP_TIMEOUT_MS });
  } catch (error) {
    logger.error('endpoint stopped with unwritten capture', { error });
    code = 1;
  }
  const capture = endpoint.server.stats().capture;
  send({ type: 'stopped', captured: capture?.captured ?? 0, written: capture?.written ?? 0, pending: capture?.pending ?? 0 });
  s3.destroy();
  channel.close();
  return code;
}

/** SageMaker's FailureReason is at most 1024 characters. */
function failureReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 1024 ? `${text.slice(0, 1021)}...` : text;
}
