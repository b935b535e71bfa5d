/** Bucket widths a timeline may use, in seconds: round numbers an operator reads at a glance. */
const BUCKET_SECONDS = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400];

/**
 * The smallest round bucket width that splits [first, last] into at most `maxBuckets` buckets
 * aligned to multiples of the width (so 5-minute buckets start at :00, :05, ...).
 */
export function chooseBucketSeconds(firstMs: number, lastMs: number, maxBuckets = 60): number {
  for (const seconds of BUCKET_SECONDS) {
    const width = seconds * 1000;
    const count = Math.floor(lastMs / width) - Math.floor(firstMs / width) + 1;
    if (count <= maxBuckets) return seconds;
  }
  return BUCKET_SECONDS[BUCKET_SECONDS.length - 1];
}
