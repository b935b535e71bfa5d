import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { dataCaptureRecordSchema, parseDataCaptureKey, parseOrThrow } from '@scones/payload-schemas';
import { CaptureWriteError, ModelServerConfigError } from '../errors';
import { DirectoryCaptureSink, type CaptureSink } from './capture-sink';
import { DataCaptureWriter } from './data-capture-writer';
import { createJsonLogger } from '@scones/stack-core';
import { VirtualClock, waitFor } from '../../test/virtual-clock';

/** An in-memory sink that can be told to fail its next writes. */
class MemorySink implements CaptureSink {
  readonly description = 'memory';
  readonly objects = new Map<string, string>();
  writes = 0;
  failNext = 0;
  async write(key: string, body: string): Promise<void> {
    this.writes++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('SlowDown: please reduce your request rate');
    }
    this.objects.set(key, body);
  }
  records() {
    return [...this.objects.values()].flatMap((body) => body.trimEnd().split('\n')).map((line) => parseOrThrow(dataCaptureRecordSchema, JSON.parse(line), 'capture record'));
  }
}

const png = Buffer.from('89504e470d0a1a0a0000', 'hex');
const input = (i: number) => ({ contentType: 'image/png', body: png, output: JSON.stringify([i / 100, 1 - i / 100]) });

describe('DataCaptureWriter', () => {
  const writers: DataCaptureWriter[] = [];
  const make = (sink: CaptureSink, options: Partial<ConstructorParameters<typeof DataCaptureWriter>[0]> = {}) => {
    const writer = new DataCaptureWriter({ endpointName: 'scones-ep', sink, flushIntervalMs: 60_000, ...options });
    writers.push(writer);
    return writer;
  };
  afterEach(async () => {
    await Promise.allSettled(writers.splice(0).map((w) => w.close()));
  });

  it("writes SageMaker Model Monitor records under SageMaker's key layout", async () => {
    const sink = new MemorySink();
    const writer = make(sink, { now: () => new Date(Date.UTC(2026, 2, 4, 5, 6, 7, 8)) });
    writer.capture({ ...input(3), inferenceId: 'req-7' });
    await writer.flush();
    const [key] = [...sink.objects.keys()];
    expect(key).toMatch(/^data_capture\/scones-ep\/AllTraffic\/2026\/03\/04\/05\/06-07-008-[0-9a-f-]{36}\.jsonl$/);
    expect(parseDataCaptureKey(key)).toMatchObject({ endpointName: 'scones-ep', variant: 'AllTraffic' });
    const [record] = sink.records();
    expect(record).toEqual({
      captureData: {
        endpointInput: { observedContentType: 'image/png', mode: 'INPUT', data: png.toString('base64'), encoding: 'BASE64' },
        endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', data: '[0.03,0.97]', encoding: 'JSON' },
      },
      eventMetadata: { eventId: expect.stringMatching(/^[0-9a-f-]{36}$/), inferenceTime: '2026-03-04T05:06:07.008Z', inferenceId: 'req-7' },
      eventVersion: '0',
    });
  });

  it('batches records into files of at most maxRecordsPerFile records, each within one UTC hour', async () => {
    const sink = new MemorySink();
    const writer = make(sink, { maxRecordsPerFile: 3 });
    const t0 = Date.UTC(2026, 0, 1, 10, 59, 59, 0);
    for (let i = 0; i < 7; i++) writer.capture({ ...input(i), time: new Date(t0 + (i < 2 ? 0 : 2000)) });
    await writer.flush();
    const keys = [...sink.objects.keys()].sort();
    // Records are cut every 3 (0-2, 3-5, 6), then by hour: [0, 1] [2] [3, 4, 5] [6].
    expect(keys.map((k) => k.split('/').slice(3, 7).join('/'))).toEqual(['2026/01/01/10', '2026/01/01/11', '2026/01/01/11', '2026/01/01/11']);
    expect(keys.map((k) => sink.objects.get(k)!.trimEnd().split('\n').length).sort()).toEqual([1, 1, 2, 3]);
    for (const key of keys) {
      const hours = sink.objects.get(key)!.trimEnd().split('\n').map((line) => JSON.parse(line).eventMetadata.inferenceTime.slice(0, 13));
      expect(new Set(hours)).toEqual(new Set([key.split('/').slice(3, 7).join('-').replace(/-(\d\d)$/, 'T$1')]));
    }
    expect(writer.stats()).toMatchObject({ captured: 7, written: 7, pending: 0, files: 4 });
  });

  it('writes a full file at once without waiting for the timer', async () => {
    const sink = new MemorySink();
    const clock = new VirtualClock();
    const writer = make(sink, { maxRecordsPerFile: 2, clock });
    writer.capture(input(1));
    writer.capture(input(2));
    writer.capture(input(3));
    await waitFor('the full file to be written', () => sink.objects.size === 1);
    expect(clock.now()).toBe(0);
    expect(writer.stats()).toMatchObject({ written: 2, pending: 1 });
  });

  it('writes on its timer, every flushIntervalMs', async () => {
    const sink = new MemorySink();
    const clock = new VirtualClock();
    const writer = make(sink, { flushIntervalMs: 1000, clock });
    writer.capture(input(1));
    await clock.advance(999);
    expect(sink.objects.size).toBe(0);
    await clock.advance(1);
    expect(writer.stats()).toMatchObject({ written: 1, pending: 0, files: 1 });
    writer.capture(input(2));
    writer.capture(input(3));
    await clock.advance(1000);
    expect(writer.stats()).toMatchObject({ written: 3, pending: 0, files: 2 });
    await clock.advance(5000);
    expect(sink.writes).toBe(2);
  });

  it('samples the configured percentage of requests', async () => {
    const sink = new MemorySink();
    let dice = 0;
    const writer = make(sink, { samplingPercentage: 30, random: () => (dice++ % 10) / 10 });
    const captured = Array.from({ length: 20 }, (_, i) => writer.capture(input(i))).filter(Boolean).length;
    await writer.flush();
    expect(captured).toBe(6);
    expect(sink.records()).toHaveLength(6);
    expect(writer.stats()).toMatchObject({ captured: 6, sampledOut: 14 });
    const none = make(new MemorySink(), { samplingPercentage: 0 });
    expect(none.capture(input(1))).toBe(false);
  });

  it('retries a failed write under the same key: every record is written exactly once', async () => {
    const sink = new MemorySink();
    const lines: string[] = [];
    const writer = make(sink, { logger: createJsonLogger({ level: 'warn', write: (l) => lines.push(l) }) });
    for (let i = 0; i < 5; i++) writer.capture(input(i));
    sink.failNext = 2;
    await expect(writer.flush()).rejects.toThrow('SlowDown');
    expect(writer.stats()).toMatchObject({ captured: 5, written: 0, pending: 5, failedWrites: 1 });
    for (let i = 5; i < 8; i++) writer.capture(input(i));
    await expect(writer.flush()).rejects.toThrow('SlowDown');
    await writer.flush();
    const records = sink.records();
    expect(records).toHaveLength(8);
    expect(new Set(records.map((r) => r.eventMetadata.eventId)).size).toBe(8);
    expect(records.map((r) => r.captureData.endpointOutput.data).sort()).toEqual(Array.from({ length: 8 }, (_, i) => input(i).output).sort());
    expect(writer.stats()).toMatchObject({ captured: 8, written: 8, pending: 0, failedWrites: 2, files: 2 });
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'warn', message: 'data capture write failed; will retry', records: 5, error: { message: 'SlowDown: please reduce your request rate' } });
  });

  it('close() writes everything pending, retrying transient failures', async () => {
    const sink = new MemorySink();
    const writer = make(sink);
    for (let i = 0; i < 4; i++) writer.capture(input(i));
    sink.failNext = 2;
    await writer.close();
    expect(sink.records()).toHaveLength(4);
    expect(writer.stats()).toMatchObject({ written: 4, pending: 0 });
    expect(() => writer.capture(input(9))).toThrow(CaptureWriteError);
  });

  it('close() reports the records it could not write instead of dropping them silently', async () => {
    const sink = new MemorySink();
    const writer = make(sink, { closeTimeoutMs: 100 });
    for (let i = 0; i < 3; i++) writer.capture(input(i));
    sink.failNext = Number.POSITIVE_INFINITY;
    await expect(writer.close()).rejects.toMatchObject({
      name: 'CaptureWriteError',
      message: '3 data-capture record(s) could not be written to memory/data_capture: SlowDown: please reduce your request rate',
    });
    expect(writer.stats()).toMatchObject({ captured: 3, written: 0, pending: 3 });
  });

  it('writes to a directory with the bucket key layout and no partial files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scones-capture-'));
    try {
      const writer = make(new DirectoryCaptureSink(dir));
      for (let i = 0; i < 3; i++) writer.capture(input(i));
      await writer.close();
      const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.jsonl') || f.endsWith('.partial'));
      expect(files).toHaveLength(1);
      const key = relative(dir, join(dir, files[0])).split(/[\\/]/).join('/');
      expect(parseDataCaptureKey(key)?.endpointName).toBe('scones-ep');
      expect(key.startsWith('data_capture/scones-ep/AllTraffic/')).toBe(true);
      expect((await readFile(join(dir, files[0]), 'utf8')).trimEnd().split('\n')).toHaveLength(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('with a spool directory', () => {
    let spool: string;
    beforeEach(async () => {
      spool = await mkdtemp(join(tmpdir(), 'scones-spool-'));
    });
    afterEach(async () => {
      await rm(spool, { recursive: true, force: true });
    });
    const segmentsIn = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.spool'));

    it('appends each record to the spool before capture() returns, and deletes the segment once written', async () => {
      const sink = new MemorySink();
      const writer = make(sink, { spoolDirectory: spool, clock: new VirtualClock() });
      expect(writer.spoolDirectory).toBe(join(spool, 'scones-ep'));
      for (let i = 0; i < 3; i++) writer.capture(input(i));
      const [segment] = await segmentsIn(writer.spoolDirectory!);
      const spooled = (await readFile(join(writer.spoolDirectory!, segment), 'utf8')).trimEnd().split('\n');
      expect(spooled.map((line) => JSON.parse(line).captureData.endpointOutput.data)).toEqual([0, 1, 2].map((i) => input(i).output));
      await writer.flush();
      expect(await segmentsIn(writer.spoolDirectory!)).toEqual([]);
      expect(sink.records()).toHaveLength(3);
      await writer.close();
      expect(await readdir(writer.spoolDirectory!)).toEqual([]);
    });

    it('leaves unwritten records in the spool, and the next writer of the endpoint writes them exactly once', async () => {
      const sink = new MemorySink();
      const lines: string[] = [];
      const logger = createJsonLogger({ level: 'info', write: (l) => lines.push(l) });
      const t0 = Date.UTC(2026, 0, 1, 10, 59, 59, 0);
      const first = make(sink, { spoolDirectory: spool, closeTimeoutMs: 0, logger });
      // Two hours: two files. The first is written, the second fails (the sink goes away).
      for (let i = 0; i < 6; i++) first.capture({ ...input(i), time: new Date(t0 + (i < 3 ? 0 : 2000)) });
      const written = sink.write.bind(sink);
      let calls = 0;
      sink.write = async (key, body) => {
        if (++calls > 1) throw new Error('connect ECONNREFUSED 127.0.0.1:9000');
        return written(key, body);
      };
      await expect(first.close()).rejects.toThrow(`3 data-capture record(s) could not be written to memory/data_capture; they stay in the spool ${join(spool, 'scones-ep')} for the next start: connect ECONNREFUSED`);
      expect(sink.objects.size).toBe(1);
      const firstKey = [...sink.objects.keys()][0];
      // An earlier process killed while appending leaves a torn last line.
      const [segment] = await segmentsIn(join(spool, 'scones-ep'));
      await appendFile(join(spool, 'scones-ep', segment), '{"captureData":{"endpointInput":{"obser');

      sink.write = written;
      const second = make(sink, { spoolDirectory: spool, logger });
      await waitFor('the leftover segment to be written', () => second.stats().recovered === 6);
      expect(second.stats()).toMatchObject({ recovered: 6, discarded: 1, captured: 0, files: 2 });
      // The file written before is rewritten under the same key with the same bytes: no duplicates.
      expect(sink.objects.size).toBe(2);
      expect(sink.objects.has(firstKey)).toBe(true);
      const records = sink.records();
      expect(records).toHaveLength(6);
      expect(new Set(records.map((r) => r.eventMetadata.eventId)).size).toBe(6);
      expect(await segmentsIn(join(spool, 'scones-ep'))).toEqual([]);
      expect(lines.map((l) => JSON.parse(l).message)).toEqual(
        expect.arrayContaining(['data capture: recovering what an earlier process left in the spool', 'data capture spool: dropped a record torn by the end of an earlier process']),
      );
      await second.close();
    });

    it('refuses a spool that a live process holds, and takes over one whose process is gone', async () => {
      const sink = new MemorySink();
      const holder = make(sink, { spoolDirectory: spool });
      expect(() => new DataCaptureWriter({ endpointName: 'scones-ep', sink, spoolDirectory: spool })).toThrow(
        new ModelServerConfigError(`capture spool ${join(spool, 'scones-ep')} is in use by process ${process.pid}; give each endpoint process its own spool directory`),
      );
      // Another endpoint may share the directory.
      make(sink, { endpointName: 'other-ep', spoolDirectory: spool });
      await holder.close();

      const child = spawn(process.execPath, ['-e', '0']);
      await new Promise((resolve) => child.once('exit', resolve));
      await writeFile(join(spool, 'scones-ep', 'lock'), JSON.stringify({ pid: child.pid, startTime: '1' }));
      const next = make(sink, { spoolDirectory: spool });
      expect(JSON.parse(await readFile(join(spool, 'scones-ep', 'lock'), 'utf8'))).toMatchObject({ pid: process.pid });
      // A pid that lives but was reused by another process (different start time) is no owner either.
      await next.close();
      await writeFile(join(spool, 'scones-ep', 'lock'), JSON.stringify({ pid: process.pid, startTime: 'not-my-start-time' }));
      make(sink, { spoolDirectory: spool });
    });
  });

  it('validates its options', () => {
    const sink = new MemorySink();
    expect(() => new DataCaptureWriter({ endpointName: 'x', sink, samplingPercentage: 101 })).toThrow(new ModelServerConfigError('samplingPercentage: expected 0..100, got 101'));
    expect(() => new DataCaptureWriter({ endpointName: 'x', sink, maxRecordsPerFile: 0 })).toThrow(ModelServerConfigError);
    expect(() => new DataCaptureWriter({ endpointName: 'x', sink, flushIntervalMs: 0 })).toThrow(ModelServerConfigError);
  });
});
