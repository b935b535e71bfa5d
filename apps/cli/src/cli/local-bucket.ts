import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * Creates the bucket on the local stack when it is missing, as a first `aws s3 mb` would: a fresh
 * data directory has no bucket yet. (On AWS the CDK app creates it; commands never do.)
 */
export async function ensureLocalBucket(client: S3Client, bucket: string, signal: AbortSignal): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
    await client.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: signal });
  }
}
