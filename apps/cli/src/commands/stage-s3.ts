import { s3Sink, type StageSink } from '@scones/cifar-decoder';
import { bucketTransfer, createS3Client, startLocalS3 } from '@scones/local-cloud';
import type { StageOptions } from './stage';

/** The bucket `scones stage` writes to: the embedded S3 (started here) or the AWS account's. */
export async function bucketSink(options: StageOptions): Promise<{ sink: StageSink; stop?: () => Promise<void> }> {
  const sink = (client: ReturnType<typeof createS3Client>) => s3Sink(bucketTransfer(client, options.bucket), { concurrency: options.concurrency });
  if (options.target === 'aws') return { sink: sink(createS3Client({ kind: 'aws' })) };
  const local = await startLocalS3({ directory: options.s3Dir, buckets: [options.bucket] });
  return { sink: sink(createS3Client(local.target)), stop: () => local.stop() };
}
