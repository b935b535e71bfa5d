import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  directorySink,
  DownloadError,
  fetchCifarArchive,
  parseClassList,
  stageCifar,
  UnknownClassError,
  type StageSink,
  type StageSummary,
} from '@scones/cifar-decoder';
import { refuseStackForLocal, resolveAwsBucket } from '../cli/aws-bucket';
import { UsageError } from '../cli/errors';
import type { Progress } from '../cli/output';
import { runCommand, type CommandContext } from '../cli/run-command';
import type { StageOptions } from './stage';

/** `scones stage` (stage.ts defines its options); resolves to the exit code. */
export function stage(options: StageOptions, command: Command): Promise<number> {
  return runCommand('stage', options, (ctx) => stageData(options, command, ctx));
}

async function stageData(options: StageOptions, command: Command, { output, signal }: CommandContext): Promise<void> {
  let classes: string[];
  try {
    classes = parseClassList(options.classes);
  } catch (error) {
    if (error instanceof UnknownClassError) throw new UsageError(`--classes: ${error.message}`);
    throw error;
  }
  if (options.out !== undefined && options.target === 'aws') throw new UsageError('--out writes to a directory instead of S3; leave out --target aws');
  refuseStackForLocal(options, command);
  if (options.out === undefined && options.target === 'aws') options.bucket = await resolveAwsBucket(options, command, 'where data/ is staged', signal);
  const started = Date.now();

  // The archive: given (never touches the network), or downloaded once into the cache.
  let source = options.source || undefined; // an empty SCONES_CIFAR_SOURCE means "not set"
  if (source === undefined) {
    let bar: Progress | undefined;
    const fetched = await fetchCifarArchive({
      // A mirror (or a test server) and its checksum; the official file by default.
      url: process.env.SCONES_CIFAR_URL || undefined,
      md5: process.env.SCONES_CIFAR_MD5 || undefined,
      cacheDirectory: options.cacheDir,
      signal,
      onProgress: (received, total) => {
        if (total === undefined) return;
        bar ??= output.progress('downloading cifar-100-python.tar.gz', Math.ceil(total / 1e6), 'MB');
        bar.update(Math.floor(received / 1e6));
      },
    }).catch((error: unknown) => {
      // Offline machines are common (CI, air-gapped): say how to stage without the network.
      if (error instanceof DownloadError) {
        throw new DownloadError(`${error.message}; to stage without downloading, pass --source <cifar-100-python.tar.gz> (or set SCONES_CIFAR_SOURCE)`);
      }
      throw error;
    });
    bar?.stop();
    if (!fetched.downloaded) output.info(`using the verified archive in ${fetched.path}`);
    source = fetched.path;
  }
  const size = await stat(source).then(
    (s) => s.size,
    () => undefined, // stageCifar names the problem
  );

  let sink: StageSink;
  let stopS3: (() => Promise<void>) | undefined;
  if (options.out !== undefined) {
    sink = directorySink(options.out);
  } else {
    // The S3 client (and the embedded S3 server) load only when a bucket is the target.
    const { bucketSink } = await import('./stage-s3.js');
    ({ sink, stop: stopS3 } = await bucketSink(options));
  }

  let summary: StageSummary;
  const bar = size ? output.progress(`staging ${classes.join(', ')}`, Math.ceil(size / 1e6), 'MB') : undefined;
  try {
    summary = await stageCifar({
      source,
      classes,
      sink,
      signal,
      onProgress: ({ compressedBytes, images, written }) => bar?.update(Math.floor(compressedBytes / 1e6), `${images} images, ${written} written`),
    });
  } finally {
    bar?.stop();
    await stopS3?.();
  }
  const seconds = (Date.now() - started) / 1000;
  output.result({ ok: true, command: 'stage', source, ...summary, seconds }, () => {
    const per = (split: StageSummary['train']) => Object.entries(split.perClass).map(([name, n]) => `${name} ${n}`).join(', ');
    const skipped = summary.files.skipped ? `, ${summary.files.skipped} already there` : '';
    return [
      `staged ${summary.train.images} train images (${per(summary.train)}) and ${summary.test.images} test images (${per(summary.test)})`,
      `to ${summary.location} with ${summary.manifests.join(' and ')} in ${seconds.toFixed(1)} s (${summary.files.written} files written${skipped})`,
    ].join('\n');
  });
}
