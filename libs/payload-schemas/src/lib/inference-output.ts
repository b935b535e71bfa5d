import * as z from 'zod';
import { probability } from './primitives';

/** Probabilities of one prediction may be rounded by serialization; this much slack is allowed. */
export const PROBABILITY_SUM_TOLERANCE = 1e-3;

/**
 * The endpoint's answer: a JSON array of class probabilities in the class order of the
 * model artifact (for the starter: `[p_bicycle, p_motorcycle]`).
 */
export const inferenceOutputSchema = z
  .array(probability, { error: 'expected a JSON array of class probabilities' })
  .min(2, { error: 'expected at least two class probabilities' })
  .refine((ps) => Math.abs(ps.reduce((a, b) => a + b, 0) - 1) <= PROBABILITY_SUM_TOLERANCE, {
    error: 'expected class probabilities that sum to 1',
  });
export type InferenceOutput = z.output<typeof inferenceOutputSchema>;

/** SageMaker Runtime's limit on an InvokeEndpoint request body (6 MB): the model server and the stack's runtime both enforce it. */
export const INVOCATION_MAX_BODY_BYTES = 6 * 1024 * 1024;
