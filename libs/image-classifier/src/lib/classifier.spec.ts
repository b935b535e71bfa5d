import { barImage, sampleManifest } from '../../test/fixtures';
import { flipImage } from './augment';
import { initBackend } from './backend';
import { createClassifier } from './classifier';
import { embedImages, predictProbabilities } from './inference';
import { buildResNet } from './model';
import { TEST_TIME_FLIP } from './train';

describe('createClassifier', () => {
  beforeAll(async () => {
    await initBackend({ threads: false });
  });

  it('averages with the mirror image only when training chose it on validation', async () => {
    const images = [barImage(0, 1), barImage(1, 2)];
    const plain = sampleManifest('plain');
    const flipped = { ...plain, training: { ...plain.training, hyperparameters: { [TEST_TIME_FLIP]: true } } };
    const build = () => buildResNet({ widths: [4, 8], blocks: [1, 1], numClasses: 2, inputSize: { width: 32, height: 32 }, seed: 5 }).model;
    const reference = build();
    const direct = predictProbabilities(reference, images, plain.preprocessing);
    const mirrored = predictProbabilities(reference, images.map(flipImage), plain.preprocessing);
    reference.dispose();
    const a = createClassifier(build(), plain);
    const b = createClassifier(build(), flipped);
    expect(await a.predictImages(images)).toEqual(direct);
    const averaged = await b.predictImages(images);
    averaged.forEach((row, i) => row.forEach((p, k) => expect(p).toBeCloseTo((direct[i][k] + mirrored[i][k]) / 2, 6)));
    expect(averaged).not.toEqual(direct);
    a.dispose();
    b.dispose();
  });

  it('embeds images as the stage features of the model in memory (what training stores in the baseline), in batches', async () => {
    const images = [barImage(0, 3), barImage(1, 4), barImage(0, 5)];
    const build = () => buildResNet({ architecture: 'compact', stemWidth: 4, widths: [4, 8], blocks: [0, 1], numClasses: 2, inputSize: { width: 32, height: 32 }, seed: 7 }).model;
    const manifest = sampleManifest('embed');
    const reference = build();
    const expected = embedImages(reference, images, manifest.preprocessing);
    reference.dispose();
    const c = createClassifier(build(), manifest);
    // Stem 4, stage 1 4, stage 2 8 channels: a mean and a standard deviation each.
    expect(c.embeddingSize).toBe(2 * (4 + 4 + 8));
    const embeddings = await c.embed(images);
    expect(embeddings.map((e) => e.length)).toEqual([32, 32, 32]);
    embeddings.forEach((e, i) => e.forEach((v, k) => expect(v).toBeCloseTo(expected[i][k], 6)));
    expect(await c.embed([])).toEqual([]);
    c.dispose();
    await expect(c.embed(images)).rejects.toThrow('was disposed');
  });

  it('answers an empty batch with no rows', async () => {
    const c = createClassifier(buildResNet({ widths: [4], blocks: [1], numClasses: 2, inputSize: { width: 32, height: 32 }, seed: 1 }).model, sampleManifest('empty'));
    expect(await c.predictImages([])).toEqual([]);
    expect(await c.predict([])).toEqual([]);
    await expect(c.predict([new Uint8Array([1, 2, 3])])).rejects.toThrow('not a PNG or JPEG image');
    c.dispose();
  });
});
