import { parseLst, PayloadValidationError, type LstRow } from '@scones/payload-schemas';
import { TrainingDataError } from '../errors';
import { decodeImage } from './image-decode';
import { describeStoredFile, readStoredFile, type StorageLocation } from './storage';
import type { LabeledImage } from './train';

/**
 * Where staged channels live, in the layout `scones stage` writes (the SageMaker
 * image-classification "lst" layout): `data/<channel>.lst` and `data/<channel>/<file>.png`.
 */
export type DataSource = StorageLocation;

export type Channel = 'train' | 'test';

export interface ReadChannelOptions {
  /** Number of classes: every label must be below it. */
  numClasses: number;
  /** Class names, for error messages. */
  classNames?: readonly string[];
  signal?: AbortSignal;
  onProgress?(read: number, total: number): void;
}

const CONCURRENCY = 16;

/** Human-readable location of a file of the source (`/dir/data/train.lst`, `s3://bucket/data/train.lst`). */
export const describeLocation = describeStoredFile;

function readSourceFile(source: DataSource, relative: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
  return readStoredFile(source, relative, (message) => new TrainingDataError(message), signal);
}

/** Line number (1-based) of each row parseLst returns: it skips blank lines. */
function rowLineNumbers(text: string): number[] {
  const lines: number[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() !== '') lines.push(i + 1);
  });
  return lines;
}

/** Whether the channel's `.lst` exists (the test channel is optional). */
export async function hasChannel(source: DataSource, channel: Channel, signal?: AbortSignal): Promise<boolean> {
  return (await readSourceFile(source, `data/${channel}.lst`, signal)) !== undefined;
}

/**
 * Reads a staged channel: parses `data/<channel>.lst`, checks every label, then reads and
 * decodes every image it names. Errors name the file (and `.lst` line) that is wrong.
 */
export async function readChannel(source: DataSource, channel: Channel, options: ReadChannelOptions): Promise<LabeledImage[]> {
  const lstPath = `data/${channel}.lst`;
  const lstLocation = describeLocation(source, lstPath);
  const bytes = await readSourceFile(source, lstPath, options.signal);
  if (!bytes) throw new TrainingDataError(`${lstLocation} not found: stage the data first (scones stage)`);
  const text = Buffer.from(bytes).toString('utf8');
  let rows: LstRow[];
  try {
    rows = parseLst(text, lstLocation);
  } catch (error) {
    if (error instanceof PayloadValidationError) throw new TrainingDataError(error.message);
    throw error;
  }
  if (rows.length === 0) throw new TrainingDataError(`${lstLocation} lists no images`);
  const lines = rowLineNumbers(text);
  rows.forEach((row, i) => {
    if (row.label >= options.numClasses) {
      const names = options.classNames ? ` (${options.classNames.join(', ')})` : '';
      throw new TrainingDataError(`${lstLocation} line ${lines[i]}: label ${row.label} is out of range for ${options.numClasses} classes${names}`);
    }
  });
  const images = new Array<LabeledImage>(rows.length);
  let next = 0;
  let read = 0;
  let failed = false;
  const worker = async () => {
    while (next < rows.length && !failed) {
      const i = next++;
      const row = rows[i];
      const relative = `data/${channel}/${row.path}`;
      const location = describeLocation(source, relative);
      const data = await readSourceFile(source, relative, options.signal);
      if (!data) throw new TrainingDataError(`${location} not found (listed in ${lstLocation} line ${lines[i]})`);
      try {
        images[i] = { name: location, label: row.label, image: decodeImage(data) };
      } catch (error) {
        throw new TrainingDataError(`${location}: ${(error as Error).message}`);
      }
      options.onProgress?.(++read, rows.length);
    }
  };
  const guarded = () =>
    worker().catch((error: unknown) => {
      failed = true;
      throw error;
    });
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, rows.length) }, guarded));
  return images;
}
