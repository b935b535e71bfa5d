import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { barImage, sampleManifest } from '../../test/fixtures';
import { ArtifactError } from '../errors';
import { saveArtifact } from './artifact';
import { initBackend } from './backend';
import { loadClassifier } from './classifier';
import { encodePng } from './image-decode';
import { predictProbabilities } from './inference';
import { buildResNet } from './model';

describe('model artifacts', () => {
  let dir: string;
  let s3: LocalS3;
  let client: S3Client;
  const images = [barImage(0, 1), barImage(1, 2), barImage(1, 3, 48)];

  beforeAll(async () => {
    await initBackend({ threads: false });
    dir = await mkdtemp(join(tmpdir(), 'scones-artifact-'));
    s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['scones'] });
    client = createS3Client(s3.target);
  });
  afterAll(async () => {
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function trainedLikeModel() {
    const { model } = buildResNet({ widths: [4, 8], blocks: [1, 1], numClasses: 2, inputSize: { width: 32, height: 32 }, seed: 7 });
    // Non-trivial batch-norm statistics, as after training.
    const weights = model.getWeights().map((w, i) => tf.add(w, tf.mul(tf.randomUniform(w.shape, 0, 0.5, 'float32', i), w.shape.length === 1 ? 1 : 0.1)));
    model.setWeights(weights);
    tf.dispose(weights);
    return model;
  }

  it('round-trips through a directory with identical predictions', async () => {
    const model = trainedLikeModel();
    const manifest = sampleManifest('disk-job');
    const before = predictProbabilities(model, images, manifest.preprocessing);
    const out = join(dir, 'models', 'disk-job');
    const written = await saveArtifact({ model, manifest }, out);
    expect(written.files).toEqual(['model.json', 'weights.bin', 'manifest.json']);
    expect((await readdir(out)).sort()).toEqual(['manifest.json', 'model.json', 'weights.bin']);
    // No staging directories are left next to the artifact.
    expect(await readdir(join(dir, 'models'))).toEqual(['disk-job']);
    const classifier = await loadClassifier(out);
    expect(classifier.classNames).toEqual(['bicycle', 'motorcycle']);
    expect(classifier.manifest).toEqual(manifest);
    const after = await classifier.predictImages(images);
    expect(after).toEqual(before);
    expect(await classifier.predict(images.map((i) => encodePng(i)))).toEqual(before);
    for (const row of after) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    classifier.dispose();
    await expect(classifier.predictImages(images)).rejects.toThrow('classifier disk-job was disposed');
    // model.json is a standard tfjs LayersModel: plain tf.loadLayersModel reads it too.
    const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    model.dispose();
  });

  it('replaces an existing artifact directory atomically', async () => {
    const out = join(dir, 'replace');
    const first = trainedLikeModel();
    await saveArtifact({ model: first, manifest: sampleManifest('first') }, out);
    const second = trainedLikeModel();
    await saveArtifact({ model: second, manifest: sampleManifest('second') }, out);
    expect((await loadClassifier(out)).manifest.jobName).toBe('second');
    expect((await readdir(dir)).filter((n) => n.includes('replace'))).toEqual(['replace']);
    first.dispose();
    second.dispose();
  });

  it('round-trips through the embedded S3 (models/<job>/) with identical predictions', async () => {
    const model = trainedLikeModel();
    const manifest = sampleManifest('s3-job');
    const before = predictProbabilities(model, images, manifest.preprocessing);
    const location = { s3: client, bucket: 'scones', prefix: 'models/s3-job/' };
    const written = await saveArtifact({ model, manifest }, location);
    expect(written.location).toBe('s3://scones/models/s3-job/');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'scones', Prefix: 'models/s3-job/' }));
    expect(listed.Contents!.map((o) => o.Key).sort()).toEqual(['models/s3-job/manifest.json', 'models/s3-job/model.json', 'models/s3-job/weights.bin']);
    const classifier = await loadClassifier(location);
    expect(await classifier.predictImages(images)).toEqual(before);
    classifier.dispose();
    model.dispose();
  });

  it('leaves nothing behind when a save is interrupted', async () => {
    const model = trainedLikeModel();
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(saveArtifact({ model, manifest: sampleManifest('aborted') }, join(dir, 'aborted'), { signal: controller.signal })).rejects.toThrow('stop');
    expect((await readdir(dir)).filter((n) => n.includes('aborted'))).toEqual([]);
    // In S3, a failure writing the manifest (the last file) removes the files written before it.
    const failing = createS3Client(s3.target);
    failing.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string };
        if (context.commandName === 'PutObjectCommand' && input.Key?.endsWith('manifest.json')) throw new Error('injected failure');
        return next(args);
      },
      { step: 'initialize' },
    );
    await expect(saveArtifact({ model, manifest: sampleManifest('aborted') }, { s3: failing, bucket: 'scones', prefix: 'models/aborted/' })).rejects.toThrow(
      'cannot write model artifact s3://scones/models/aborted/: put s3://scones/models/aborted/manifest.json: injected failure',
    );
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'scones', Prefix: 'models/aborted/' }));
    expect(listed.KeyCount).toBe(0);
    model.dispose();
  });

  it('refuses to save an invalid manifest', async () => {
    const model = trainedLikeModel();
    const manifest = { ...sampleManifest('bad'), classNames: ['only-one'] };
    await expect(saveArtifact({ model, manifest }, join(dir, 'bad'))).rejects.toThrow('model manifest: classNames: expected at least two class names');
    model.dispose();
  });

  describe('loading a broken artifact names the broken file', () => {
    let out: string;
    beforeEach(async () => {
      out = await mkdtemp(join(dir, 'broken-'));
      const model = trainedLikeModel();
      await saveArtifact({ model, manifest: sampleManifest('broken') }, out);
      model.dispose();
    });

    it('missing manifest.json', async () => {
      await rm(join(out, 'manifest.json'));
      await expect(loadClassifier(out)).rejects.toThrow(`${join(out, 'manifest.json')} not found: not a model artifact (or an incomplete one)`);
    });

    it('invalid manifest.json', async () => {
      await writeFile(join(out, 'manifest.json'), JSON.stringify({ ...sampleManifest('x'), threshold: { value: 2 } }));
      await expect(loadClassifier(out)).rejects.toThrow(`${join(out, 'manifest.json')}: threshold.value`);
    });

    it('corrupt model.json', async () => {
      await writeFile(join(out, 'model.json'), '{"modelTopology": ');
      await expect(loadClassifier(out)).rejects.toThrow(`${join(out, 'model.json')}: not valid JSON`);
      await writeFile(join(out, 'model.json'), '{"hello": 1}');
      await expect(loadClassifier(out)).rejects.toThrow(`${join(out, 'model.json')}: not a tfjs model.json`);
    });

    it('missing or truncated weights', async () => {
      const weights = await readFile(join(out, 'weights.bin'));
      await writeFile(join(out, 'weights.bin'), weights.subarray(0, weights.length - 4));
      await expect(loadClassifier(out)).rejects.toThrow(`${join(out, 'model.json')}: weights are ${weights.length - 4} bytes, the manifest describes ${weights.length}`);
      await rm(join(out, 'weights.bin'));
      await expect(loadClassifier(out)).rejects.toThrow(`${join(out, 'weights.bin')} not found (listed in ${join(out, 'model.json')})`);
    });

    it('files named outside the artifact (weightsManifest paths, modelPath) are refused, not read', async () => {
      // A real weights file one level up: following the path would load a working model.
      await writeFile(join(out, '..', 'outside.bin'), await readFile(join(out, 'weights.bin')));
      const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
      for (const path of ['../outside.bin', '../../etc/passwd', '/etc/passwd', 'sub/weights.bin', '..', '.\\weights.bin']) {
        await writeFile(join(out, 'model.json'), JSON.stringify({ ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: [path] }] }));
        await expect(loadClassifier(out)).rejects.toThrow(`${join(out, 'model.json')}: weightsManifest[0].paths[0] ${JSON.stringify(path)} is not a plain file name inside the artifact`);
      }
      await writeFile(join(out, 'model.json'), JSON.stringify(json));
      await writeFile(join(out, '..', 'model.json'), JSON.stringify(json));
      await writeFile(join(out, 'manifest.json'), JSON.stringify({ ...sampleManifest('x'), modelPath: '../model.json' }));
      await expect(loadClassifier(out)).rejects.toThrow(`${join(out, 'manifest.json')}: modelPath "../model.json" is not a plain file name inside the artifact`);
    });

    it('a model that does not match the manifest', async () => {
      await writeFile(join(out, 'manifest.json'), JSON.stringify(sampleManifest('x', ['a', 'b', 'c'])));
      await expect(loadClassifier(out)).rejects.toThrow('does not match manifest.json: it outputs 2 classes, manifest.json names 3');
    });

    it('a weights path outside the prefix in S3 is refused', async () => {
      const model = trainedLikeModel();
      await saveArtifact({ model, manifest: sampleManifest('s3-hostile') }, { s3: client, bucket: 'scones', prefix: 'models/s3-hostile/' });
      model.dispose();
      const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
      const hostile = JSON.stringify({ ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: ['../broken/weights.bin'] }] });
      await client.send(new PutObjectCommand({ Bucket: 'scones', Key: 'models/s3-hostile/model.json', Body: hostile }));
      await expect(loadClassifier({ s3: client, bucket: 'scones', prefix: 'models/s3-hostile/' })).rejects.toThrow(
        's3://scones/models/s3-hostile/model.json: weightsManifest[0].paths[0] "../broken/weights.bin" is not a plain file name inside the artifact',
      );
    });

    it('a model.tar.gz larger than an artifact can be is refused from its size, before its body is read', async () => {
      // 600 MiB cannot be served here: a client that answers with that size asserts the exact request.
      const requests: unknown[] = [];
      let bodyRead = false;
      const lying = {
        send: async (command: { input: unknown }) => {
          requests.push(command.input);
          return { ContentLength: 600 * 1024 * 1024, Body: { transformToByteArray: async () => ((bodyRead = true), new Uint8Array(0)) } };
        },
      } as unknown as S3Client;
      const error = await loadClassifier({ s3: lying, bucket: 'scones', tarball: 'models/big/output/model.tar.gz' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArtifactError);
      expect((error as Error).message).toBe('cannot read s3://scones/models/big/output/model.tar.gz!/manifest.json: s3://scones/models/big/output/model.tar.gz is 629145600 bytes, more than a model artifact can be (536870912)');
      expect(requests).toEqual([{ Bucket: 'scones', Key: 'models/big/output/model.tar.gz' }]);
      expect(bodyRead).toBe(false);
    });

    it('missing artifact in S3', async () => {
      await client.send(new PutObjectCommand({ Bucket: 'scones', Key: 'models/half/model.json', Body: '{}' }));
      await expect(loadClassifier({ s3: client, bucket: 'scones', prefix: 'models/half' })).rejects.toThrow('s3://scones/models/half/manifest.json not found');
    });
  });
});
