import { InvalidArgumentError, Option } from 'commander';

/** commander parser for an integer option within bounds, with an error naming the option. */
export function integer(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer between ${min} and ${max}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** commander parser for a number option within bounds. */
export function decimal(min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number between ${min} and ${max}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** commander parser for a duration like `30s`, `5m`, `1h`, `250ms` or plain seconds; returns ms. */
export function duration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected a duration like 30s, 5m or 1h, got ${JSON.stringify(value)}`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000;
  return Number(m[1]) * factor;
}

/** `--target local|aws`, the same on every command. */
export const targetOption = () =>
  new Option('--target <target>', 'where to run: the embedded local stack or your AWS account').choices(['local', 'aws']).default('local');

/** `--json`, the same on every command that produces a result. */
export const jsonOption = () => new Option('--json', 'print one machine-readable JSON summary on stdout (progress stays on stderr)');

/**
 * `--data-prefix`: where the staged images and manifests are in the bucket (the bucket layout's
 * data prefix): `data/` (default), or '' for the course's starter layout at the bucket root.
 */
export const dataPrefixOption = () =>
  new Option('--data-prefix <prefix>', "where the staged data is in the bucket: data/ (default), or '' for the course's layout (train/, test/, train.lst, test.lst at the root)")
    .env('SCONES_DATA_PREFIX')
    .default('data/');

/** `--bucket`. */
export const bucketOption = (localDefault = 'scones') =>
  new Option('--bucket <name>', 'S3 bucket (local target default: "scones"; with --target aws: required, or read from --stack)').env('SCONES_BUCKET').default(localDefault);

/** `--stack` where only the bucket is needed from a deployed stack (run and load read more from it). */
export const stackBucketOption = () =>
  new Option('--stack <name>', "aws: a deployed Scones stack (apps/infra); its BucketName output is the bucket when --bucket is not given").env('SCONES_STACK');
