import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { localLambdaContext } from '@scones/local-cloud';
import {
  ENDPOINT_NAME_PATTERN,
  PayloadValidationError,
  TRANSIENT_ENDPOINT_ERRORS,
  WorkflowError,
  WorkflowErrorName,
  inferenceOutputSchema,
  lambdaResultSchema,
  parseJsonOrThrow,
  parseOrThrow,
  type ClassifiedResult,
} from '@scones/payload-schemas';

/** The image format the endpoint is sent (serialize passes the S3 object through unchanged). */
export const IMAGE_CONTENT_TYPE = 'image/png';

const TRANSIENT = new Set<string>(TRANSIENT_ENDPOINT_ERRORS);

export interface ClassifyDependencies {
  sagemaker: SageMakerRuntimeClient;
  logger: Logger;
  /** Where ENDPOINT_NAME is read from, on every invocation. Default: `process.env`. */
  environment?: NodeJS.ProcessEnv;
}

export type ClassifyHandler = (event: unknown, context?: Context) => Promise<ClassifiedResult>;

/**
 * The classify step: sends the envelope's image to the model endpoint and puts the class
 * probabilities it answers into `body.inferences`.
 */
export function createClassifyHandler({ sagemaker, logger, environment = process.env }: ClassifyDependencies): ClassifyHandler {
  return async function classify(event, context) {
    // Called directly (the local runner, a script), a handler still logs a request id of its own.
    logger.addContext(context ?? localLambdaContext('classify-lambda'));
    const endpointName = readEndpointName(environment);
    const { body } = parseOrThrow(lambdaResultSchema, event, 'classify event');
    const started = performance.now();
    const inferences = await invokeEndpoint(sagemaker, endpointName, Buffer.from(body.image_data, 'base64'), logger);
    logger.info('classified image', {
      endpoint: endpointName,
      s3_bucket: body.s3_bucket,
      s3_key: body.s3_key,
      inferences,
      latency_ms: Math.round(performance.now() - started),
    });
    return { statusCode: 200, body: { ...body, inferences } };
  };
}

export function readEndpointName(environment: NodeJS.ProcessEnv): string {
  const name = environment.ENDPOINT_NAME?.trim();
  if (!name) {
    throw new WorkflowError(WorkflowErrorName.LambdaConfiguration, 'ENDPOINT_NAME is not set: set it to the name of the SageMaker endpoint that classifies the images');
  }
  if (!ENDPOINT_NAME_PATTERN.test(name)) {
    throw new WorkflowError(
      WorkflowErrorName.LambdaConfiguration,
      `ENDPOINT_NAME ${JSON.stringify(name)} is not a valid endpoint name (1-63 letters, digits and hyphens, starting and ending with a letter or digit)`,
    );
  }
  return name;
}

async function invokeEndpoint(sagemaker: SageMakerRuntimeClient, endpointName: string, image: Buffer, logger: Logger): Promise<number[]> {
  let answer: Uint8Array | undefined;
  try {
    const response = await sagemaker.send(new InvokeEndpointCommand({ EndpointName: endpointName, ContentType: IMAGE_CONTENT_TYPE, Body: image }));
    answer = response.Body;
  } catch (error) {
    throw endpointFailure(error, endpointName, logger);
  }
  const text = Buffer.from(answer ?? []).toString('utf8');
  try {
    return parseJsonOrThrow(inferenceOutputSchema, text, `endpoint "${endpointName}" answer`);
  } catch (error) {
    if (!(error instanceof PayloadValidationError)) throw error;
    const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    logger.warn('endpoint answer invalid', { endpoint: endpointName, problem: error.message });
    throw new WorkflowError(WorkflowErrorName.EndpointResponseInvalid, `${error.message} (the endpoint answered: ${shown})`, { cause: error });
  }
}

/**
 * What classify throws when InvokeEndpoint fails. Transient errors keep their name (so the state
 * machine's Retry matches them); a network error's code (ECONNREFUSED, ...) becomes its name for the
 * same reason. A rejected request (4xx: unknown endpoint, the model's error answer) is
 * EndpointResponseInvalid; anything else propagates unchanged.
 */
function endpointFailure(error: unknown, endpointName: string, logger: Logger): unknown {
  if (!(error instanceof Error)) return error;
  const { code, $metadata } = error as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  if (TRANSIENT.has(error.name)) return error;
  if (code && TRANSIENT.has(code)) {
    error.name = code;
    return error;
  }
  const status = $metadata?.httpStatusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    logger.warn('endpoint rejected the request', { endpoint: endpointName, error: error.name, status });
    return new WorkflowError(WorkflowErrorName.EndpointResponseInvalid, `endpoint "${endpointName}" rejected the request: ${error.name}: ${error.message}`, { cause: error });
  }
  return error;
}
