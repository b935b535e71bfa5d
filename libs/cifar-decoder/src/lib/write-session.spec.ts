import type { StagedFile } from './stage-sink';
import { WriteSession } from './write-session';

const file = (key: string): StagedFile => ({ key, body: Buffer.from(key), contentType: 'text/plain' });

describe('WriteSession', () => {
  it('hands pushed files to the writer and remembers their keys', async () => {
    const session = new WriteSession();
    const seen: string[] = [];
    session.push(file('a'));
    session.start(async (files) => {
      for await (const f of files) seen.push(f.key);
      return { written: seen.length, skipped: 0, bytes: 0 };
    });
    session.push(file('b'));
    session.queue.close();
    expect(await session.done).toEqual({ written: 2, skipped: 0, bytes: 0 });
    expect(seen).toEqual(['a', 'b']);
    expect(session.keys).toEqual(['a', 'b']);
  });

  it('settles as empty when abandoned before it started, and passes on a writer failure', async () => {
    const idle = new WriteSession();
    idle.push(file('a'));
    idle.abandon();
    expect(await idle.done).toEqual({ written: 0, skipped: 0, bytes: 0 });
    const failing = new WriteSession();
    const failure = new Error('disk full');
    failing.start(async () => {
      throw failure;
    });
    await expect(failing.done).rejects.toBe(failure);
  });
});
