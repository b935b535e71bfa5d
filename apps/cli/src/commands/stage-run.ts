import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  checkCifar100Classes,
  describeCifarSource,
  directorySink,
  DownloadError,
  obtainCifarSource,
  parseClassList,
  resolveCifarSource,
  stageCifar,
  UnknownClassError,
  type CifarSourceKind,
  type StageSink,
  type StageSummary,
} from '@scones/cifar-decoder';
import { bucketLayout, type BucketLayout } from '@scones/payload-schemas';
import { refuseStackForLocal, resolveAwsBucket } from '../cli/aws-bucket';
import { UsageError } from '../cli/errors';
import type { Progress } from '../cli/output';
import { runCommand, type CommandContext } from '../cli/run-command';
import type { StageOptions } from './stage';

/** `scones stage` (stage.ts defines its options); resolves to the exit code. */
export function stage(options: StageOptions, command: Command): Promise<number> {
  return runCommand('stage', options, (ctx) => stageData(options, command, ctx));
}

/** How the result names each kind of source. */
const SOURCE_LABEL: Record<CifarSourceKind, string> = { bundled: 'the bundled subset', download: 'the downloaded archive', file: 'the given file' };

/** `--classes` as names, or a UsageError (exit 2) for any mistake in it: empty, repeated, unknown, fewer than two. */
function classList(text: string): string[] {
  try {
    const classes = parseClassList(text);
    checkCifar100Classes(classes);
    if (classes.length < 2) throw new UsageError(`--classes: expected at least two classes (train needs two or more to tell apart), got ${JSON.stringify(text)}`);
    return classes;
  } catch (error) {
    if (error instanceof UnknownClassError) throw new UsageError(`--classes: ${error.message}`);
    throw error;
  }
}

async function stageData(options: StageOptions, command: Command, { output, signal }: CommandContext): Promise<void> {
  // Every option is checked before any work: a bad command line exits 2 having touched nothing.
  const classes = classList(options.classes);
  let layout: BucketLayout;
  try {
    layout = bucketLayout(options.dataPrefix);
  } catch (error) {
    throw new UsageError(`--data-prefix: ${(error as Error).message}`);
  }
  if (options.out !== undefined && options.target === 'aws') throw new UsageError('--out writes to a directory instead of S3; leave out --target aws');
  if (options.download && command.getOptionValueSource('source') === 'cli') {
    throw new UsageError('--download and --source exclude each other: --source stages a file you have, --download fetches the full archive');
  }
  refuseStackForLocal(options, command);
  if (options.out === undefined && options.target === 'aws') options.bucket = await resolveAwsBucket(options, command, 'where data/ is staged', signal);
  const started = Date.now();

  // The archive: a given file (never touches the network), the bundled subset for the default
  // classes, or the full archive downloaded once into the cache. An empty SCONES_CIFAR_SOURCE
  // means "not set"; --download on the command line wins over SCONES_CIFAR_SOURCE.
  const plan = resolveCifarSource({ classes, source: options.download ? undefined : options.source || undefined, download: options.download });
  output.info(`source: ${describeCifarSource(plan)}`);
  let downloadBar: Progress | undefined;
  const obtained = await obtainCifarSource(plan, {
    // A mirror (or a test server) and its checksum; the official file by default.
    url: process.env.SCONES_CIFAR_URL || undefined,
    md5: process.env.SCONES_CIFAR_MD5 || undefined,
    cacheDirectory: options.cacheDir,
    signal,
    onProgress: (received, total) => {
      if (total === undefined) return;
      downloadBar ??= output.progress('downloading cifar-100-python.tar.gz', Math.ceil(total / 1e6), 'MB');
      downloadBar.update(Math.floor(received / 1e6));
    },
  }).catch((error: unknown) => {
    // Offline machines are common (CI, air-gapped): say how to stage without the network.
    if (error instanceof DownloadError) {
      const bundled = plan.kind === 'download' && plan.reason === 'classes' ? ' (the bundled subset holds only bicycle and motorcycle)' : '';
      throw new DownloadError(`${error.message}; to stage without downloading, pass --source <cifar-100-python.tar.gz> (or set SCONES_CIFAR_SOURCE)${bundled}`);
    }
    throw error;
  });
  downloadBar?.stop();
  if (plan.kind === 'download' && !obtained.downloaded) output.info(`using the verified archive in ${obtained.path}`);
  const source = obtained.path;
  const size = await stat(source).then(
    (s) => s.size,
    () => undefined, // stageCifar names the problem
  );

  let sink: StageSink;
  let stopS3: (() => Promise<void>) | undefined;
  if (options.out !== undefined) {
    sink = directorySink(options.out, { layout });
  } else {
    // The S3 client (and the local stack) load only when a bucket is the target.
    const { bucketSink } = await import('./stage-s3.js');
    ({ sink, stop: stopS3 } = await bucketSink(options, layout, output, signal));
  }

  let summary: StageSummary;
  let bar = size ? output.progress(`staging ${classes.join(', ')}`, Math.ceil(size / 1e6), 'MB') : undefined;
  let uploading = false;
  try {
    summary = await stageCifar({
      source,
      classes,
      sink,
      layout,
      signal,
      onProgress: ({ phase, compressedBytes, images, written }) => {
        if (phase === 'read') return bar?.update(Math.floor(compressedBytes / 1e6), `${images} images`);
        // Decoded and checked: a bucket gets its uploads now (a directory only renames).
        if (!uploading && options.out === undefined) {
          uploading = true;
          bar?.stop();
          bar = output.progress(`uploading to ${sink.location}`, images, 'images');
        }
        if (uploading) bar?.update(written);
      },
    });
  } finally {
    bar?.stop();
    await stopS3?.();
  }
  const seconds = (Date.now() - started) / 1000;
  output.result({ ok: true, command: 'stage', source, sourceKind: plan.kind, ...summary, seconds }, () => {
    const per = (split: StageSummary['train']) => Object.entries(split.perClass).map(([name, n]) => `${name} ${n}`).join(', ');
    const skipped = summary.files.skipped ? `, ${summary.files.skipped} already there` : '';
    const stale = summary.files.removedStale ? `, ${summary.files.removedStale} of the previous set removed` : '';
    return [
      `staged ${summary.train.images} train images (${per(summary.train)}) and ${summary.test.images} test images (${per(summary.test)})`,
      `from ${SOURCE_LABEL[plan.kind]} ${source}`,
      `to ${summary.location} with ${summary.manifests.join(' and ')} in ${seconds.toFixed(1)} s (${summary.files.written} files written${skipped}${stale})`,
    ].join('\n');
  });
}
