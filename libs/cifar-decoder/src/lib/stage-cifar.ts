import type { BucketLayout } from '@scones/payload-schemas';
import { setMaxListeners } from 'node:events';
import type { Readable } from 'node:stream';
import { formatLst, type LstRow } from '@scones/payload-schemas';
import { EmptyClassError, NotCifarBatchError } from '../errors';
import { BatchPreviewer, previewAgrees, type BatchPreview } from './batch-preview';
import { CifarMembers, type MemberBuffer } from './cifar-archive';
import { checkLabelsAgainstMeta, decodeCifarBatch, decodeCifarMeta, ROW_BYTES, type CifarBatch, type CifarMeta } from './cifar-batch';
import { CIFAR100_FINE_LABEL_NAMES } from './cifar100-labels';
import { encodeCifarRowPng } from './cifar-png';
import { checkClassList, DEFAULT_CLASSES, selectClasses, type ClassSelection } from './class-selection';
import { stageLayout, type StageLayout, type SinkWriteResult, type StagedFile, type StageSink } from './stage-sink';
import { readTarGz } from './tar-gz';
import { WriteSession } from './write-session';

export interface StageProgress {
  /**
   * 'read': the archive is being decoded (images are encoded and kept aside); 'commit': it has
   * been decoded and checked, and the sink is making the images the staged set (S3: uploading).
   */
  phase: 'read' | 'commit';
  /** Compressed archive bytes read. */
  compressedBytes: number;
  /** Images encoded so far. */
  images: number;
  /** Images the sink has written (or found unchanged). */
  written: number;
}

export interface StageCifarOptions {
  /** The archive: a path or a stream of its bytes. */
  source: string | Readable;
  /** Fine label names; label i = classes[i]. Default bicycle, motorcycle. */
  classes?: readonly string[];
  sink: StageSink;
  signal?: AbortSignal;
  onProgress?(progress: StageProgress): void;
  /**
   * Encode selected rows while the archive streams (default true): labels are read ahead of the
   * pixels and `meta` (the last member) is predicted from the published label order; both are
   * checked against the full decode, and a wrong prediction is undone and redone. False: wait
   * for every member, then encode (slower; the same output).
   */
  speculate?: boolean;
  /** Decompress a file source on a worker thread (default true; see readTarGz). */
  worker?: boolean;
  /** Where the files go (default `data/…`); give the sink the same layout. */
  layout?: BucketLayout;
}

export interface StagedSplit {
  images: number;
  /** Images per class name. */
  perClass: Record<string, number>;
}

export interface StageSummary {
  location: string;
  classes: Array<{ name: string; label: number; fineLabel: number }>;
  train: StagedSplit;
  test: StagedSplit;
  files: { written: number; skipped: number; removedStale: number };
  bytes: number;
  manifests: string[];
  /** Rows whose filename repeated an earlier one in the same batch; stored as `<name>_row<N>.png`. */
  renamedDuplicates: number;
  /** 'confirmed': outputs were produced while streaming; 'rejected': redone after meta disagreed; 'off'. */
  speculation: 'confirmed' | 'rejected' | 'off';
  /** Times the archive was read: 2 when a rejected prediction needed bytes released in the first pass. */
  passes: 1 | 2;
}

type Split = 'train' | 'test';

interface EmittedRow {
  row: number;
  label: number;
  /** Name as in the pickle (checked against the full decode). */
  original: string;
  /** Name written (differs only for duplicates). */
  name: string;
}

class BatchState {
  previewer: BatchPreviewer;
  preview: BatchPreview | null | undefined;
  batch: CifarBatch | undefined;
  nextRow = 0;
  emitted: EmittedRow[] = [];
  names = new Set<string>();
  renamed = 0;

  constructor(
    readonly split: Split,
    readonly buffer: MemberBuffer,
  ) {
    this.previewer = new BatchPreviewer(buffer.bytes, buffer.size, buffer.entryName);
  }

  reset(): void {
    this.nextRow = 0;
    this.emitted = [];
    this.names.clear();
    this.renamed = 0;
  }

  /** Rows whose labels and pixels are available, from the full decode or the preview. */
  availableRows(): number {
    if (this.batch) return this.batch.rows;
    if (!this.preview) return 0;
    return Math.min(this.preview.rows, Math.max(0, Math.floor((this.buffer.filled - this.preview.dataOffset) / ROW_BYTES)));
  }
}

const PLAIN_FILENAME = /^[^/\\\0]+$/;

/**
 * A chosen class without training rows would stage a class that `train` cannot learn (and zero
 * rows for every class would replace a staged set with empty manifests): refused before the sink
 * commits anything, naming the class, the archive and the classes it does have rows of.
 */
function checkEveryClassHasRows(selection: ClassSelection, meta: CifarMeta, train: BatchState, where: string): void {
  const rows = new Array<number>(selection.names.length).fill(0);
  for (const e of train.emitted) rows[e.label]++;
  const empty = selection.names.filter((_, label) => rows[label] === 0);
  if (!empty.length) return;
  const present = [...new Set(train.batch?.fineLabels ?? [])].sort((a, b) => a - b).map((fine) => meta.fineLabelNames[fine] ?? `fine label ${fine}`);
  const has =
    present.length === 0 ? 'it has no training rows at all' : present.length <= 10 ? `it has training rows of ${present.join(', ')} only` : `it has training rows of ${present.length} classes`;
  const classes = empty.map((name) => `"${name}"`).join(', ');
  throw new EmptyClassError(`${where}: no rows of class${empty.length > 1 ? 'es' : ''} ${classes} in ${train.buffer.entryName} (${has}); nothing was staged`);
}

function sameSelection(a: ClassSelection, b: ClassSelection): boolean {
  return a.fineLabels.length === b.fineLabels.length && a.fineLabels.every((f, i) => f === b.fineLabels[i]);
}

/**
 * Stages chosen CIFAR-100 classes from the python archive to a sink: `data/train/*.png`,
 * `data/test/*.png` (original filenames), then `data/train.lst` and `data/test.lst`. The archive
 * is decompressed once; selected rows are encoded to PNG and written while it streams.
 */
export async function stageCifar(options: StageCifarOptions): Promise<StageSummary> {
  try {
    return await new CifarStager(options, {}).run();
  } catch (error) {
    if (!(error instanceof SecondPassNeeded)) throw error;
    // Rows needed now were released while streaming: read the archive again, knowing the labels.
    return new CifarStager(options, { predicted: error.selection, speculate: error.speculate, secondPass: true }).run();
  }
}

/**
 * A prediction failed after pixel bytes it did not need were released: the first pass removes
 * its outputs and throws this, and a second pass reads the (file) archive again.
 */
class SecondPassNeeded extends Error {
  constructor(
    /** The labels meta gave, when meta was read. */
    readonly selection: ClassSelection | undefined,
    /** False when a batch preview was wrong: the second pass waits for full decodes. */
    readonly speculate: boolean,
  ) {
    super('second pass needed');
  }
}

interface PassOptions {
  predicted?: ClassSelection;
  speculate?: boolean;
  secondPass?: boolean;
}

class CifarStager {
  private readonly classes: readonly string[];
  private readonly layout: StageLayout;
  private readonly sink: StageSink;
  private readonly speculate: boolean;
  private predicted: ClassSelection | undefined;
  private actual: ClassSelection | undefined;
  private meta: CifarMeta | undefined;
  private readonly batches = new Map<Split, BatchState>();
  private session = new WriteSession();
  private restarting: Promise<void> = Promise.resolve();
  private rejected = false;
  private mispredicted = false;
  private images = 0;
  private phase: StageProgress['phase'] = 'read';
  private compressed = 0;
  private written = 0;
  private totals: SinkWriteResult = { written: 0, skipped: 0, bytes: 0 };
  /** Stops everything: Ctrl-C or a failed write. */
  private readonly stop = new AbortController();
  /** Stops reading the archive (also for a second pass, while writes in flight finish). */
  private readonly stopReading = new AbortController();
  private sinkFailure: { error: unknown } | undefined;
  /**
   * Pixel bytes of rows already handled are dropped while streaming (a file can be read again if
   * a prediction fails), so memory holds the labels and the chunks in flight, not the 186 MB.
   */
  private readonly release: boolean;
  private readonly secondPass: boolean;

  constructor(
    private readonly options: StageCifarOptions,
    pass: PassOptions,
  ) {
    this.layout = stageLayout(options.layout);
    // The reader, the sink and each request in flight listen to this signal.
    setMaxListeners(100, this.stop.signal);
    this.stop.signal.addEventListener('abort', () => this.stopReading.abort(this.stop.signal.reason), { once: true });
    this.classes = options.classes ?? DEFAULT_CLASSES;
    this.sink = options.sink;
    this.speculate = pass.speculate ?? options.speculate ?? true;
    this.secondPass = pass.secondPass ?? false;
    this.release = this.speculate && typeof options.source === 'string' && !this.secondPass;
    this.predicted = pass.predicted;
    if (!this.predicted && this.speculate && this.classes.every((c) => CIFAR100_FINE_LABEL_NAMES.includes(c))) {
      this.predicted = selectClasses(CIFAR100_FINE_LABEL_NAMES, this.classes);
    }
  }

  async run(): Promise<StageSummary> {
    checkClassList(this.classes);
    const where = typeof this.options.source === 'string' ? this.options.source : 'archive';
    const userSignal = this.options.signal;
    const onUserAbort = () => this.stop.abort(userSignal?.reason);
    if (userSignal?.aborted) onUserAbort();
    userSignal?.addEventListener('abort', onUserAbort, { once: true });
    this.startWriting(this.session);
    const members = new CifarMembers(where);
    try {
      await readTarGz(this.options.source, {
        signal: this.stopReading.signal,
        worker: this.options.worker,
        onProgress: (bytes) => {
          this.compressed = bytes;
          this.report();
        },
        onMember: (name, size) => {
          const buffer = members.open(name, size);
          if (!buffer) return undefined;
          if (buffer.member === 'meta') return { data: (c) => buffer.append(c), end: () => this.onMeta(buffer) };
          const state = new BatchState(buffer.member, buffer);
          this.batches.set(buffer.member, state);
          return {
            data: (chunk) => {
              buffer.append(chunk);
              this.onBatchData(state);
            },
            end: () => this.onBatchEnd(state),
          };
        },
      });
      members.checkComplete();
      await this.restarting;
      const session = this.session;
      session.queue.close();
      this.addTotals(await session.done);
      const train = this.batch('train');
      const test = this.batch('test');
      if (!this.actual || !this.meta) throw new Error('internal: archive read without its meta member');
      checkEveryClassHasRows(this.actual, this.meta, train, where);
      const manifests = [this.manifest(train, this.layout.trainManifest), this.manifest(test, this.layout.testManifest)];
      // Everything is decoded and checked: only now does the sink make the staged set (S3: the first PUT).
      this.phase = 'commit';
      this.written = 0;
      this.report();
      const committed = await this.sink.commit(manifests, new Set(session.keys), {
        signal: this.stop.signal,
        onWritten: (count) => {
          this.written = count;
          this.report();
        },
      });
      this.addTotals(committed);
      return this.summary(this.actual, train, test, manifests, committed.removedStale);
    } catch (error) {
      const cause = this.sinkFailure?.error ?? (userSignal?.aborted ? (userSignal.reason ?? error) : error);
      this.session.abandon();
      await this.restarting.catch(() => undefined);
      this.session.abandon(); // the restart may have opened a new session meanwhile
      await this.session.done.catch(() => undefined);
      if (cause instanceof SecondPassNeeded && !userSignal?.aborted) {
        await this.sink.remove(this.session.keys); // the second pass writes into the same sink
      } else {
        await this.sink.abort();
      }
      throw cause;
    } finally {
      userSignal?.removeEventListener('abort', onUserAbort);
    }
  }

  private report(): void {
    this.options.onProgress?.({ phase: this.phase, compressedBytes: this.compressed, images: this.images, written: this.written });
  }

  private addTotals(result: SinkWriteResult): void {
    this.totals = { written: this.totals.written + result.written, skipped: this.totals.skipped + result.skipped, bytes: this.totals.bytes + result.bytes };
  }

  private startWriting(session: WriteSession): void {
    const base = this.written;
    session.start((files) =>
      this.sink.write(files, {
        signal: this.stop.signal,
        onWritten: (count) => {
          this.written = base + count;
          this.report();
        },
      }),
    );
    // A failed write stops the archive read at once instead of after the last member.
    session.done.catch((error: unknown) => {
      this.sinkFailure ??= { error };
      this.stop.abort(error);
    });
  }

  private selection(): ClassSelection | undefined {
    return this.actual ?? (this.speculate ? this.predicted : undefined);
  }

  private onBatchData(state: BatchState): void {
    if (!this.speculate) return;
    if (state.preview === undefined) state.preview = state.previewer.update();
    if (state.preview) this.emit(state);
  }

  private onBatchEnd(state: BatchState): void {
    const batch = decodeCifarBatch(state.buffer.bytes, state.buffer.entryName);
    if (this.meta) checkLabelsAgainstMeta(batch, this.meta);
    // Rows emitted from the preview must be exactly what the full decode says.
    const agrees =
      !state.preview ||
      state.emitted.length === 0 ||
      (previewAgrees(state.preview, batch) && state.emitted.every((e) => batch.filename(e.row) === e.original));
    state.batch = batch;
    if (!agrees) return this.reject(false);
    this.emit(state);
  }

  private onMeta(buffer: MemberBuffer): void {
    this.meta = decodeCifarMeta(buffer.bytes, buffer.entryName);
    this.actual = selectClasses(this.meta.fineLabelNames, this.classes);
    for (const state of this.batches.values()) if (state.batch) checkLabelsAgainstMeta(state.batch, this.meta);
    if (this.speculate && this.predicted && !sameSelection(this.predicted, this.actual)) {
      this.mispredicted = true;
      if ([...this.batches.values()].some((s) => s.emitted.length > 0)) return this.reject(true);
    }
    for (const state of this.batches.values()) this.emit(state);
  }

  /**
   * Outputs so far were based on a wrong prediction: remove them, then produce them again — from
   * memory, or by a second pass when the bytes were released. `previewHeld`: the batch previews
   * were right (only the label prediction was wrong).
   */
  private reject(previewHeld: boolean): void {
    this.rejected = true;
    if ([...this.batches.values()].some((s) => s.buffer.bytes.released > 0)) {
      // Writes in flight finish (then their files are removed): an aborted PUT could still land later.
      this.stopReading.abort(new SecondPassNeeded(this.actual, previewHeld));
      return;
    }
    const old = this.session;
    const next = new WriteSession();
    this.session = next;
    for (const state of this.batches.values()) state.reset();
    this.images = 0;
    this.restarting = this.restarting.then(async () => {
      old.queue.close();
      this.addTotals(await old.done);
      await this.sink.remove(old.keys);
      this.totals = { written: 0, skipped: 0, bytes: 0 };
      this.written = 0;
      this.startWriting(next);
    });
    this.restarting.catch((error: unknown) => {
      this.sinkFailure ??= { error };
      this.stop.abort(error);
    });
    for (const state of this.batches.values()) this.emit(state);
  }

  /** Encodes and queues every selected row that has become available. */
  private emit(state: BatchState): void {
    const selection = this.selection();
    if (!selection) return;
    let source: { fineLabels: readonly number[]; filename(row: number): string };
    let pixels: (row: number) => Uint8Array;
    if (state.batch) {
      source = state.batch;
      pixels = (row) => (state.batch as CifarBatch).pixels(row);
    } else if (this.speculate && state.preview) {
      const { dataOffset } = state.preview;
      source = state.preview;
      pixels = (row) => state.buffer.bytes.range(dataOffset + row * ROW_BYTES, dataOffset + (row + 1) * ROW_BYTES);
    } else {
      return;
    }
    const upTo = state.availableRows();
    if (upTo <= state.nextRow) return;
    const dir = state.split === 'train' ? this.layout.trainDir : this.layout.testDir;
    for (let row = state.nextRow; row < upTo; row++) {
      const fine = source.fineLabels[row];
      const label = fine < selection.labelOfFine.length ? selection.labelOfFine[fine] : -1;
      if (label < 0) continue;
      const original = source.filename(row);
      if (!PLAIN_FILENAME.test(original) || original === '.' || original === '..') {
        throw new NotCifarBatchError(`${state.buffer.entryName}: row ${row} has filename ${JSON.stringify(original)}, which is not a plain file name`);
      }
      let name = original;
      if (state.names.has(name)) {
        const dot = name.lastIndexOf('.');
        name = dot > 0 ? `${name.slice(0, dot)}_row${row}${name.slice(dot)}` : `${name}_row${row}`;
        state.renamed++;
      }
      state.names.add(name);
      state.emitted.push({ row, label, original, name });
      this.session.push({ key: `${dir}/${name}`, body: encodeCifarRowPng(pixels(row), 0), contentType: 'image/png' });
      this.images++;
    }
    state.nextRow = upTo;
    if (this.release && state.preview) {
      const { dataOffset } = state.preview;
      state.buffer.bytes.release(dataOffset, dataOffset + upTo * ROW_BYTES);
    }
  }

  private batch(split: Split): BatchState {
    const state = this.batches.get(split);
    if (!state) throw new Error(`internal: no ${split} batch`); // checkComplete() ran before
    return state;
  }

  private manifest(state: BatchState, key: string): StagedFile {
    const rows: LstRow[] = state.emitted.map((e) => ({ row: e.row, label: e.label, path: e.name }));
    return { key, body: Buffer.from(formatLst(rows)), contentType: 'text/plain' };
  }

  private summary(selection: ClassSelection, train: BatchState, test: BatchState, manifests: StagedFile[], removedStale: number): StageSummary {
    const split = (state: BatchState): StagedSplit => {
      const perClass = Object.fromEntries(selection.names.map((n) => [n, 0]));
      for (const e of state.emitted) perClass[selection.names[e.label]]++;
      return { images: state.emitted.length, perClass };
    };
    return {
      location: this.sink.location,
      classes: selection.names.map((name, label) => ({ name, label, fineLabel: selection.fineLabels[label] })),
      train: split(train),
      test: split(test),
      files: { written: this.totals.written, skipped: this.totals.skipped, removedStale },
      bytes: this.totals.bytes,
      manifests: manifests.map((m) => m.key),
      renamedDuplicates: train.renamed + test.renamed,
      passes: this.secondPass ? 2 : 1,
      speculation: this.secondPass ? 'rejected' : !this.speculate || !this.predicted ? 'off' : this.rejected || this.mispredicted ? 'rejected' : 'confirmed',
    };
  }
}
