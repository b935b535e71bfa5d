/**
 * The child side of a stack worker's IPC channel: says `hello`, receives its configuration,
 * reports to the parent, hears `stop`, and learns when the parent is gone (the channel closes
 * when the stack exits, even by SIGKILL) so the worker never outlives it.
 */
export interface WorkerChannel<Config> {
  /** The configuration the parent sent. */
  readonly config: Config;
  send(message: { type: string; [key: string]: unknown }): void;
  /** Resolves when the parent asks to stop (`'stop'`) or disappears (`'disconnect'`). */
  readonly stopped: Promise<'stop' | 'disconnect'>;
  /** Closes the channel so the process can exit once its work is done. */
  close(): void;
}

export class WorkerChannelError extends Error {
  override readonly name = 'WorkerChannelError';
}

export async function openWorkerChannel<Config>(timeoutMs = 30_000): Promise<WorkerChannel<Config>> {
  const post = process.send?.bind(process);
  if (!post || !process.connected) throw new WorkerChannelError('a stack worker must be started by the local stack (no IPC channel)');
  let stop!: (why: 'stop' | 'disconnect') => void;
  const stopped = new Promise<'stop' | 'disconnect'>((resolve) => (stop = resolve));
  const config = await new Promise<Config>((resolve, reject) => {
    const timer = setTimeout(() => reject(new WorkerChannelError(`no configuration from the stack within ${timeoutMs} ms`)), timeoutMs);
    process.on('message', (message: { type?: string; config?: Config }) => {
      if (message?.type === 'start') {
        clearTimeout(timer);
        resolve(message.config as Config);
      } else if (message?.type === 'stop') {
        stop('stop');
      }
    });
    process.once('disconnect', () => {
      clearTimeout(timer);
      stop('disconnect');
      reject(new WorkerChannelError('the stack went away before sending a configuration'));
    });
    post({ type: 'hello' });
  });
  return {
    config,
    stopped,
    send(message) {
      if (process.connected) post(message, undefined, undefined, (error: Error | null) => void error);
    },
    close() {
      if (process.connected) process.disconnect();
    },
  };
}
