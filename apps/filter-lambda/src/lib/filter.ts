import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { localLambdaContext } from '@scones/local-cloud';
import { WorkflowError, WorkflowErrorName, classifiedResultSchema, parseOrThrow, type ClassifiedResult } from '@scones/payload-schemas';

/** A plain decimal number ("0.93", "1", ".5", "9.3e-1"); `Number()` alone would also take "0x1" or "". */
const DECIMAL = /^\s*(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

export interface FilterDependencies {
  logger: Logger;
  /** Where THRESHOLD is read from, on every invocation. Default: `process.env`. */
  environment?: NodeJS.ProcessEnv;
}

export type FilterHandler = (event: unknown, context?: Context) => Promise<ClassifiedResult>;

/**
 * The filter step: passes the classified envelope through when its top class probability reaches
 * THRESHOLD, and otherwise fails the execution with the starter's `THRESHOLD_CONFIDENCE_NOT_MET`.
 */
export function createFilterHandler({ logger, environment = process.env }: FilterDependencies): FilterHandler {
  return async function filter(event, context) {
    // Called directly (the local runner, a script), a handler still logs a request id of its own.
    logger.addContext(context ?? localLambdaContext('filter-lambda'));
    const threshold = readThreshold(environment);
    const result = parseOrThrow(classifiedResultSchema, event, 'filter event');
    const { s3_bucket, s3_key, inferences } = result.body;
    const confidence = Math.max(...inferences);
    const passed = confidence >= threshold;
    logger.info(passed ? 'confidence meets threshold' : 'confidence below threshold', { s3_bucket, s3_key, inferences, confidence, threshold });
    if (!passed) {
      // Name and message are both the starter's error string: Step Functions shows the name as the error.
      throw new WorkflowError(WorkflowErrorName.ThresholdConfidenceNotMet, WorkflowErrorName.ThresholdConfidenceNotMet);
    }
    return result;
  };
}

/**
 * THRESHOLD as a probability. There is deliberately no built-in default: the right threshold
 * belongs to the deployed model (its manifest's `threshold.value`, chosen on validation data), and
 * `scones deploy` and the CDK app always set it; a silent fallback would filter with a number that
 * was never chosen for this model.
 */
export function readThreshold(environment: NodeJS.ProcessEnv): number {
  const raw = environment.THRESHOLD;
  if (raw === undefined || raw.trim() === '') {
    throw new WorkflowError(
      WorkflowErrorName.LambdaConfiguration,
      "THRESHOLD is not set: set it to the model's recommended threshold (threshold.value in the model artifact's manifest.json), a number between 0 and 1",
    );
  }
  const value = DECIMAL.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 0 && value <= 1)) {
    throw new WorkflowError(WorkflowErrorName.LambdaConfiguration, `THRESHOLD ${JSON.stringify(raw)} is not a number between 0 and 1`);
  }
  return value;
}
