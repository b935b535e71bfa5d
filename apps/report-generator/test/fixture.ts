import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { captureFiles, cifarLikeProfile, seededRandom, syntheticImage, syntheticTraffic } from '@scones/monitor-analytics';
import { writeSyntheticModel } from '@scones/report/testing';

export const ENDPOINT = 'scones-endpoint';
/** The scheduled time of the test invocations: the traffic is the 24 hours before it. */
export const SCHEDULED = new Date('2026-03-02T06:00:00.000Z');

/**
 * Puts a day of synthetic capture (one request every 15 min) and a model into the bucket: a small
 * real network (TensorFlow.js) whose manifest has the monitoring baseline with embeddings, so the
 * report job loads it and embeds the captured images as on AWS.
 */
export async function seedBucket(s3: S3Client, bucket: string): Promise<void> {
  const random = seededRandom(9);
  const profile = cifarLikeProfile();
  const traffic = syntheticTraffic({ random, count: 96, start: new Date(SCHEDULED.getTime() - 86_400_000), intervalMs: 900_000, profile, distinctImages: 24 });
  for (const [key, body] of captureFiles(ENDPOINT, traffic, 12)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const images = (n: number) => Array.from({ length: n }, () => syntheticImage(random, profile.brightness(random)));
  await writeSyntheticModel({ s3, bucket, prefix: 'models/scones-job-7/' }, { jobName: 'scones-job-7', validation: images(60), training: images(120) });
}
