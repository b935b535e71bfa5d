import * as z from 'zod';
import { base64String, nonEmptyString } from './primitives';
import { inferenceOutputSchema } from './inference-output';

/** The `body` every Lambda of the workflow returns (Udacity starter shape). */
export const lambdaBodySchema = z.object({
  image_data: base64String.refine((s) => s.length > 0, { error: 'expected non-empty base64 image data' }),
  s3_bucket: nonEmptyString,
  s3_key: nonEmptyString,
  inferences: z.union([z.tuple([]), inferenceOutputSchema], {
    error: 'expected [] (not yet classified) or an array of class probabilities',
  }),
});
export type LambdaBody = z.output<typeof lambdaBodySchema>;

/** `{"statusCode": 200, "body": {...}}`: what serialize, classify and filter return. */
export const lambdaResultSchema = z.object({
  statusCode: z.literal(200, { error: 'expected 200' }),
  body: lambdaBodySchema,
});
export type LambdaResult = z.output<typeof lambdaResultSchema>;

/** A result after classification: `inferences` holds the probabilities. */
export const classifiedResultSchema = lambdaResultSchema.extend({
  body: lambdaBodySchema.extend({ inferences: inferenceOutputSchema }),
});
export type ClassifiedResult = z.output<typeof classifiedResultSchema>;
