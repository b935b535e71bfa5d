/**
 * Runs tasks one at a time per name (different names run concurrently). Used where S3 promises an
 * order: two PUTs of one key publish in the order they finish receiving, and the index then
 * records the one that landed last.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(name, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }

  /** Names with a task running or waiting. */
  get size(): number {
    return this.tails.size;
  }
}
