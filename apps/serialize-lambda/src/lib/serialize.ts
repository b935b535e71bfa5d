import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { localLambdaContext } from '@scones/local-cloud';
import {
  PayloadValidationError,
  WorkflowError,
  WorkflowErrorName,
  parseOrThrow,
  workflowEventSchema,
  type LambdaResult,
} from '@scones/payload-schemas';

/**
 * Largest image serialize accepts. The image travels inline, base64-encoded (4/3 of its size), in
 * the state's data, which Step Functions limits to 256 KiB; 2 KiB are left for the rest of the
 * envelope. A larger image would fail later with an obscure `States.DataLimitExceeded`.
 */
export const MAX_IMAGE_BYTES = 190 * 1024;

/** S3 errors that mean "this object is not there" (404), as opposed to access or service errors. */
const MISSING_OBJECT_ERRORS = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound']);

export interface SerializeDependencies {
  s3: S3Client;
  logger: Logger;
}

export type SerializeHandler = (event: unknown, context?: Context) => Promise<LambdaResult>;

/**
 * The serialize step: reads the image named by the workflow event from S3 and returns it base64
 * encoded in the envelope the next steps take, with no inferences yet.
 */
export function createSerializeHandler({ s3, logger }: SerializeDependencies): SerializeHandler {
  return async function serialize(event, context) {
    // Called directly (the local runner, a script), a handler still logs a request id of its own.
    logger.addContext(context ?? localLambdaContext('serialize-lambda'));
    // `image_data` of the input is ignored: the image always comes from S3 (Udacity starter behaviour).
    const { s3_bucket, s3_key } = parseOrThrow(workflowEventSchema, event, 'serialize event');
    const image = await getImage(s3, s3_bucket, s3_key, logger);
    logger.info('serialized image', { s3_bucket, s3_key, bytes: image.length });
    return { statusCode: 200, body: { image_data: image.toString('base64'), s3_bucket, s3_key, inferences: [] } };
  };
}

async function getImage(s3: S3Client, bucket: string, key: string, logger: Logger): Promise<Buffer> {
  const where = `s3://${bucket}/${key}`;
  let bytes: Uint8Array | undefined;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    bytes = await object.Body?.transformToByteArray();
  } catch (error) {
    const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (!MISSING_OBJECT_ERRORS.has(name ?? '') && $metadata?.httpStatusCode !== 404) throw error; // the state machine retries
    const what = name === 'NoSuchBucket' ? `bucket "${bucket}" does not exist` : `no object with key "${key}" in bucket "${bucket}"`;
    logger.warn('image not found', { s3_bucket: bucket, s3_key: key, s3_error: name });
    throw new WorkflowError(WorkflowErrorName.ImageNotFound, `${where}: ${what} (S3: ${name})`, { cause: error });
  }
  const image = Buffer.from(bytes ?? []);
  if (image.length === 0) throw new PayloadValidationError(`image ${where}`, [{ path: '', message: 'the object is empty (0 bytes)' }]);
  if (image.length > MAX_IMAGE_BYTES) {
    throw new PayloadValidationError(`image ${where}`, [
      {
        path: '',
        message: `${image.length} bytes is too large: the workflow passes the image inline and Step Functions limits state data to 256 KiB, so at most ${MAX_IMAGE_BYTES} bytes`,
      },
    ]);
  }
  return image;
}
