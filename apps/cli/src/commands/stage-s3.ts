import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Sink, type StageSink } from '@scones/cifar-decoder';
import { bucketTransfer, createS3Client } from '@scones/local-cloud';
import type { BucketLayout } from '@scones/payload-schemas';
import type { Output } from '../cli/output';
import { openTarget } from '../cli/target';
import type { StageOptions } from './stage';

/**
 * The bucket `scones stage` writes to: the local stack's (created when missing, as a first
 * `aws s3 mb` would) or the AWS account's (it must exist: the CDK app creates it).
 */
export async function bucketSink(options: StageOptions, layout: BucketLayout, output: Output, signal: AbortSignal): Promise<{ sink: StageSink; stop: () => Promise<void> }> {
  const target = await openTarget(options, output);
  const client = createS3Client(target.target);
  const stop = async () => {
    client.destroy();
    await target.close();
  };
  try {
    if (target.kind === 'local') await ensureBucket(client, options.bucket, signal);
    return { sink: s3Sink(bucketTransfer(client, options.bucket), { concurrency: options.concurrency, layout }), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function ensureBucket(client: S3Client, bucket: string, signal: AbortSignal): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
    await client.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: signal });
  }
}
