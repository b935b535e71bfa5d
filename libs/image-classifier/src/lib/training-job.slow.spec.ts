import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { directorySink, stageCifar } from '@scones/cifar-decoder';
import { modelManifestSchema } from '@scones/payload-schemas';
import { writeStagedChannel } from '../../test/fixtures';
import { initBackend } from './backend';
import { loadClassifier } from './classifier';
import { argMax } from './evaluation';
import { readChannel } from './training-data';
import { runLocalTrainingJob } from './training-job';

// The real rows when the workspace has them (../shared/data), else a learnable synthetic set.
const SHARED = resolve(__dirname, '../../../../../shared/data/cifar-100-python-bicycle-motorcycle.tar.gz');

describe('runLocalTrainingJob with the full configuration (3 epochs)', () => {
  let root: string;

  beforeAll(async () => {
    await initBackend();
    root = await mkdtemp(join(tmpdir(), 'scones-train-slow-'));
    if (existsSync(SHARED)) {
      await stageCifar({ source: SHARED, sink: directorySink(join(root, 'staged')) });
    } else {
      await writeStagedChannel(join(root, 'staged'), 'train', 500);
      await writeStagedChannel(join(root, 'staged'), 'test', 100, 2, 100_000);
    }
  }, 120_000);
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('learns, and the saved artifact reproduces the reported test figures', async () => {
    const out = join(root, 'model');
    const result = await runLocalTrainingJob({
      jobName: 'slow-job',
      classNames: ['bicycle', 'motorcycle'],
      source: { directory: join(root, 'staged') },
      destination: out,
      config: { epochs: 3 },
    });
    const manifest = modelManifestSchema.parse(result.manifest);
    expect(manifest.training).toMatchObject({ trainCount: 800, validationCount: 200, epochs: 3 });
    expect(manifest.training.history[manifest.training.bestEpoch].validationAccuracy).toBeGreaterThanOrEqual(0.7);
    const classifier = await loadClassifier(out);
    const test = await readChannel({ directory: join(root, 'staged') }, 'test', { numClasses: 2 });
    const probabilities = await classifier.predictImages(test.map((x) => x.image));
    const correct = probabilities.filter((p, i) => argMax(p) === test[i].label).length;
    expect(correct / test.length).toBeCloseTo(manifest.test!.accuracy, 6);
    classifier.dispose();
  }, 600_000);
});
