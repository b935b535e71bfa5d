import { AsyncQueue } from './async-queue';
import type { SinkWriteResult, StagedFile } from './stage-sink';

/** Files handed to the sink in one go; a rejected prediction closes one session and opens the next. */
export class WriteSession {
  readonly queue = new AsyncQueue<StagedFile>();
  readonly keys: string[] = [];
  readonly done: Promise<SinkWriteResult>;
  private settle!: { resolve(result: SinkWriteResult): void; reject(error: unknown): void };
  private started = false;

  constructor() {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => undefined); // awaited by the stager; never an unhandled rejection
  }

  start(write: (files: AsyncQueue<StagedFile>) => Promise<SinkWriteResult>): void {
    this.started = true;
    write(this.queue).then(this.settle.resolve, this.settle.reject);
  }

  push(file: StagedFile): void {
    this.keys.push(file.key);
    this.queue.push(file);
  }

  /** Stops taking files; a session that never started counts as empty. */
  abandon(): void {
    void this.queue.return();
    if (!this.started) this.settle.resolve({ written: 0, skipped: 0, bytes: 0 });
  }
}
