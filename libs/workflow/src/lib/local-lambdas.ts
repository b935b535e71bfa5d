import { localSdkEnvironment, type Target } from '@scones/local-cloud';
import { endpointNameSchema } from '@scones/payload-schemas';
import { LambdaBundleError } from '../errors';
import type { LambdaHandler } from './lambda-invoke';
import { loadLambdaHandlers } from './lambda-bundles';

export interface LocalLambdasOptions {
  /** Bundle file by function name, e.g. `{ 'serialize-lambda': 'dist/apps/serialize-lambda/main.js', ... }`. */
  bundles: Readonly<Record<string, string>>;
  /** The embedded stack the functions talk to: S3 and the endpoint's SageMaker Runtime URL. */
  target: Extract<Target, { kind: 'local' }> & { sagemakerRuntimeEndpoint: string };
  /** ENDPOINT_NAME of classify-lambda. */
  endpointName: string;
  /** THRESHOLD of filter-lambda. */
  threshold: number;
  /** The environment the functions read (the Lambda runtime's is the process's). Default `process.env`. */
  environment?: NodeJS.ProcessEnv;
}

// Bundles create their SDK clients when first required and Node caches modules per process, so the
// endpoints a process loaded them with are the ones it keeps.
const loadedWith = new Map<string, string>();

/**
 * Loads the Lambda bundles for the local runner, configured like their deployed functions: the
 * standard SDK variables point at the embedded stack, ENDPOINT_NAME and THRESHOLD are set, and
 * the functions' logs go to stderr at WARN unless POWERTOOLS_LOG_LEVEL says otherwise (their INFO
 * lines would go to stdout, which `--json` keeps for the result).
 */
export function loadLocalLambdas(options: LocalLambdasOptions): Record<string, LambdaHandler> {
  const environment = options.environment ?? process.env;
  if (!endpointNameSchema.safeParse(options.endpointName).success) {
    throw new LambdaBundleError(`endpoint name ${JSON.stringify(options.endpointName)}: expected 1-63 letters, digits and hyphens`);
  }
  if (!(options.threshold >= 0 && options.threshold <= 1)) throw new LambdaBundleError(`THRESHOLD ${options.threshold}: expected a number between 0 and 1`);
  const endpoints = `${options.target.s3Endpoint} ${options.target.sagemakerRuntimeEndpoint}`;
  for (const file of Object.values(options.bundles)) {
    const previous = loadedWith.get(file);
    if (previous !== undefined && previous !== endpoints) {
      throw new LambdaBundleError(`${file} was already loaded in this process for ${previous}; its SDK clients cannot be pointed at ${endpoints}`);
    }
  }
  Object.assign(environment, localSdkEnvironment(options.target), {
    ENDPOINT_NAME: options.endpointName,
    THRESHOLD: String(options.threshold),
    POWERTOOLS_LOG_LEVEL: environment.POWERTOOLS_LOG_LEVEL ?? 'WARN',
  });
  const handlers = loadLambdaHandlers(options.bundles);
  for (const file of Object.values(options.bundles)) loadedWith.set(file, endpoints);
  return handlers;
}
