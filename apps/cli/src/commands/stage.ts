import { Command, Option } from 'commander';
import { DEFAULT_CACHE_DIR, DEFAULT_CLASS_LIST } from '../cli/library-defaults';
import { bucketOption, dataPrefixOption, integer, jsonOption, stackBucketOption, targetOption } from '../cli/options';
import { dataDirOption } from '../cli/stack-options';

export interface StageOptions {
  source?: string;
  download?: boolean;
  classes: string;
  target: 'local' | 'aws';
  bucket: string;
  stack?: string;
  out?: string;
  dataDir: string;
  dataPrefix: string;
  cacheDir: string;
  concurrency: number;
  json?: boolean;
}

/** `scones stage`: CIFAR-100 archive → data/train, data/test PNGs and .lst manifests, in S3 or a directory. */
export function stageCommand(): Command {
  const command = new Command('stage')
    .description('extract chosen CIFAR-100 classes to PNGs and .lst manifests (data/train, data/test) in the bucket or a directory')
    .addOption(
      new Option(
        '--source <path>',
        'a cifar-100-python.tar.gz to stage from (never downloads); default: the bundled bicycle/motorcycle subset for those classes, else the full archive downloaded into the cache',
      ).env('SCONES_CIFAR_SOURCE'),
    )
    .addOption(new Option('--download', 'stage from the full CIFAR-100 archive (161 MB, downloaded once, md5-checked, cached) even for bicycle and motorcycle'))
    .addOption(new Option('--classes <names>', 'comma-separated CIFAR-100 fine labels; label i is the i-th name').default(DEFAULT_CLASS_LIST))
    .addOption(targetOption())
    .addOption(bucketOption())
    .addOption(stackBucketOption())
    .addOption(new Option('--out <dir>', 'write <dir>/data/... to disk instead of S3'))
    .addOption(dataDirOption())
    .addOption(dataPrefixOption())
    .addOption(new Option('--cache-dir <dir>', 'where the downloaded archive is kept').env('SCONES_CACHE_DIR').default(DEFAULT_CACHE_DIR))
    .addOption(new Option('--concurrency <n>', 'uploads in flight').argParser(integer(1, 256)).default(16))
    .addOption(jsonOption());
  return command.action(async (options: StageOptions) => {
    // Loaded on use: the archive reader, PNG encoder and S3 client cost nothing to other commands.
    const { stage } = await import('./stage-run.js');
    process.exitCode = await stage(options, command);
  });
}
