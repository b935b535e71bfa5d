import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { captureFiles, cifarLikeProfile, seededRandom, syntheticBaseline, syntheticManifest, syntheticTraffic } from '@scones/monitor-analytics';

export const ENDPOINT = 'scones-endpoint';
/** The scheduled time of the test invocations: the traffic is the 24 hours before it. */
export const SCHEDULED = new Date('2026-03-02T06:00:00.000Z');

/** Puts a day of synthetic capture (one request every 15 min) and a model manifest into the bucket. */
export async function seedBucket(s3: S3Client, bucket: string): Promise<void> {
  const random = seededRandom(9);
  const profile = cifarLikeProfile();
  const traffic = syntheticTraffic({ random, count: 96, start: new Date(SCHEDULED.getTime() - 86_400_000), intervalMs: 900_000, profile, distinctImages: 24 });
  for (const [key, body] of captureFiles(ENDPOINT, traffic, 12)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const manifest = syntheticManifest({ jobName: 'scones-job-7', baseline: syntheticBaseline(random, 200, profile) });
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'models/scones-job-7/manifest.json', Body: JSON.stringify(manifest) }));
}
