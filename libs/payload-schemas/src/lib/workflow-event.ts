import * as z from 'zod';
import { base64String, nonEmptyString } from './primitives';

/**
 * Input of one workflow execution, as the Udacity starter's test-case generator emits it:
 * `{"image_data": "", "s3_bucket": "...", "s3_key": "test/bicycle_s_000513.png"}`.
 */
export const workflowEventSchema = z.object({
  image_data: z.union([z.literal(''), base64String]).optional().default(''),
  s3_bucket: nonEmptyString,
  s3_key: nonEmptyString,
});
export type WorkflowEvent = z.output<typeof workflowEventSchema>;

/** Input of the batch (Map) workflow: explicit keys or every object under a prefix. */
export const batchWorkflowEventSchema = z
  .object({
    s3_bucket: nonEmptyString,
    s3_keys: z.array(nonEmptyString, { error: 'expected an array of S3 keys' }).optional(),
    s3_prefix: nonEmptyString.optional(),
  })
  .refine((e) => (e.s3_keys === undefined) !== (e.s3_prefix === undefined), {
    error: 'expected exactly one of s3_keys or s3_prefix',
  });
export type BatchWorkflowEvent = z.output<typeof batchWorkflowEventSchema>;
