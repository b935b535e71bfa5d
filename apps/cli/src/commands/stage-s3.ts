import { s3Sink, type StageSink } from '@scones/cifar-decoder';
import { bucketTransfer, createS3Client } from '@scones/local-cloud';
import type { BucketLayout } from '@scones/payload-schemas';
import { ensureLocalBucket } from '../cli/local-bucket';
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
    if (target.kind === 'local') await ensureLocalBucket(client, options.bucket, signal);
    return { sink: s3Sink(bucketTransfer(client, options.bucket), { concurrency: options.concurrency, layout }), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
