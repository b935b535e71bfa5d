import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeStagedChannel } from '../../test/fixtures';
import { initBackend } from './backend';
import { checkJobName, defaultJobName, runLocalTrainingJob } from './training-job';

describe('training job names', () => {
  it('are SageMaker-style and validated', () => {
    expect(defaultJobName('scones-image-classification', new Date('2024-05-06T07:08:09.123Z'))).toBe('scones-image-classification-2024-05-06-07-08-09-123');
    expect(checkJobName(defaultJobName())).toMatch(/^scones-image-classification-\d{4}(-\d+){6}$/);
    for (const bad of ['', '-x', 'x-', 'a_b', 'a/b', 'x'.repeat(64)]) expect(() => checkJobName(bad)).toThrow(`job name ${JSON.stringify(bad)}: expected 1-63 letters`);
  });
});

describe('runLocalTrainingJob', () => {
  let root: string;
  beforeAll(async () => {
    await initBackend({ threads: false });
    root = await mkdtemp(join(tmpdir(), 'scones-job-'));
    await writeStagedChannel(join(root, 'staged'), 'train', 12);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('trains without a test channel and writes the artifact', async () => {
    const read: string[] = [];
    const result = await runLocalTrainingJob({
      jobName: 'no-test',
      classNames: ['h', 'v'],
      source: { directory: join(root, 'staged') },
      destination: join(root, 'out'),
      preset: 'quick',
      config: { epochs: 1 },
      onRead: (channel, n, total) => n === total && read.push(`${channel} ${total}`),
    });
    expect(read).toEqual(['train 24']);
    expect(result.test).toBeUndefined();
    expect(result.manifest.test).toBeUndefined();
    expect(result.artifact.location).toBe(join(root, 'out'));
    expect((await readdir(join(root, 'out'))).sort()).toEqual(['manifest.json', 'model.json', 'weights.bin']);
  });
});
