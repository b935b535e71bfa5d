import type { Command } from 'commander';
import { readStackOutputs } from '@scones/local-cloud';
import { UsageError } from './errors';

/** `--stack` on the command line of a local run would be silently ignored: refuse it. */
export function refuseStackForLocal(options: { target: 'local' | 'aws' }, command: Command): void {
  if (options.target === 'local' && command.getOptionValueSource('stack') === 'cli') throw new UsageError('--stack applies to --target aws only');
}

/**
 * The bucket of a `--target aws` command: `--bucket` (or SCONES_BUCKET) when given, else the
 * `BucketName` output of `--stack`, so nobody copies it from the console by hand.
 */
export async function resolveAwsBucket(
  options: { bucket: string; stack?: string; region?: string },
  command: Command,
  purpose: string,
  signal?: AbortSignal,
): Promise<string> {
  if (command.getOptionValueSource('bucket') !== 'default') return options.bucket;
  if (!options.stack) throw new UsageError(`--bucket is required with --target aws (${purpose}), or --stack <name> of a deployed Scones stack to read it from`);
  return (await readStackOutputs(options.stack, { region: options.region, signal })).bucketName;
}
