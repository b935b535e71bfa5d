import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { baselineFromManifest, findLatestManifestKey, loadBaselineFromDirectory, loadBaselineFromS3, newestManifestKey, resolveBaseline } from './baseline';
import { BaselineError } from '../errors';
import { syntheticManifest } from './synthetic-traffic';

const manifest = (jobName: string) =>
  syntheticManifest({
    jobName,
    threshold: 0.85,
    baseline: { count: 3, confidences: [0.9, 0.8, 0.99], predictedClassCounts: [2, 1], brightness: { r: [0.1, 0.2, 0.3], g: [0.1, 0.2, 0.3], b: [0.1, 0.2, 0.3] } },
  });

let dir: string;
let s3: LocalS3;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baseline-'));
  s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['scones', 'empty'] });
});
afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('baseline from a model manifest', () => {
  it('reads classes, threshold and the validation baseline from a model directory', async () => {
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest('job-1')));
    const baseline = await loadBaselineFromDirectory(dir);
    expect(baseline).toEqual({
      source: join(dir, 'manifest.json'),
      jobName: 'job-1',
      classNames: ['bicycle', 'motorcycle'],
      threshold: 0.85,
      count: 3,
      confidences: [0.9, 0.8, 0.99],
      predictedClassCounts: [2, 1],
      brightness: { r: [0.1, 0.2, 0.3], g: [0.1, 0.2, 0.3], b: [0.1, 0.2, 0.3] },
      artifact: { directory: dir },
    });
  });

  it('names the file and the field when the manifest is missing or wrong', async () => {
    await expect(loadBaselineFromDirectory(join(dir, 'nowhere'))).rejects.toThrow(/manifest\.json: does not exist/);
    const bad = { ...manifest('job-2'), threshold: { value: 2 } };
    await writeFile(join(dir, 'bad.json'), JSON.stringify(bad));
    await expect(loadBaselineFromDirectory(join(dir, 'bad.json'))).rejects.toThrow(BaselineError);
    await expect(loadBaselineFromDirectory(join(dir, 'bad.json'))).rejects.toThrow(/invalid model manifest .*bad\.json: threshold\.value: expected a probability <= 1/);
  });

  it('rejects a baseline whose parts disagree', () => {
    const m = manifest('job-3');
    m.baseline.predictedClassCounts = [3];
    expect(() => baselineFromManifest(m, 'm.json')).toThrow('m.json: baseline.predictedClassCounts has 1 entries for 2 classes');
  });

  it('picks the newest manifest by LastModified, then by key, ignoring nested ones', () => {
    const at = (iso: string) => new Date(iso);
    const objects = [
      { Key: 'models/a/manifest.json', LastModified: at('2026-03-01T10:00:00Z') },
      { Key: 'models/b/manifest.json', LastModified: at('2026-03-01T11:00:00Z') },
      { Key: 'models/b/checkpoints/manifest.json', LastModified: at('2026-03-01T12:00:00Z') },
      { Key: 'models/c/weights.bin', LastModified: at('2026-03-01T12:00:00Z') },
      { Key: 'other/d/manifest.json', LastModified: at('2026-03-01T12:00:00Z') },
    ];
    expect(newestManifestKey(objects)).toBe('models/b/manifest.json');
    // Same second (S3's resolution): the later key wins, whatever the listing order.
    const tie = [
      { Key: 'models/z-job/manifest.json', LastModified: at('2026-03-01T11:00:00Z') },
      { Key: 'models/a-job/manifest.json', LastModified: at('2026-03-01T11:00:00Z') },
    ];
    expect(newestManifestKey(tie)).toBe('models/z-job/manifest.json');
    expect(newestManifestKey([...tie].reverse())).toBe('models/z-job/manifest.json');
    expect(newestManifestKey([])).toBeUndefined();
    expect(newestManifestKey(objects, 'other')).toBe('other/d/manifest.json');
  });

  it('finds the newest models/<job>/manifest.json in the bucket and reads it', async () => {
    const client = createS3Client(s3.target);
    const put = (key: string, body: unknown) => client.send(new PutObjectCommand({ Bucket: 'scones', Key: key, Body: JSON.stringify(body) }));
    await put('models/z-older/manifest.json', manifest('z-older'));
    await put('models/a-newer/manifest.json', manifest('a-newer'));
    await put('models/a-newer/checkpoints/manifest.json', manifest('nested'));
    // The expected key follows from the LastModified times the server gave (no sleeping to order them).
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'scones', Prefix: 'models/' }));
    const expected = newestManifestKey(listed.Contents ?? []);
    expect(expected).toMatch(/^models\/(z-older|a-newer)\/manifest\.json$/);
    const key = await findLatestManifestKey(client, 'scones');
    expect(key).toBe(expected);
    const baseline = await loadBaselineFromS3(client, 'scones', key);
    expect(baseline.jobName).toBe(key.split('/')[1]);
    expect(baseline.artifact).toEqual({ bucket: 'scones', prefix: `models/${baseline.jobName}/` });
    await expect(loadBaselineFromS3(client, 'scones', 'models/x/manifest.json')).rejects.toThrow('model manifest s3://scones/models/x/manifest.json: does not exist');
    await expect(findLatestManifestKey(client, 'empty')).rejects.toThrow('no model manifest under s3://empty/models/');
  });
});

describe('resolveBaseline', () => {
  it('prefers a model directory, then a key or job, then the newest model in the bucket', async () => {
    const client = createS3Client(s3.target);
    await client.send(new PutObjectCommand({ Bucket: 'scones', Key: 'custom/m.json', Body: JSON.stringify(manifest('by-key')) }));
    await client.send(new PutObjectCommand({ Bucket: 'scones', Key: 'models/by-job/manifest.json', Body: JSON.stringify(manifest('by-job')) }));
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest('from-dir')));
    const s3Location = { client, bucket: 'scones' };
    expect((await resolveBaseline({ modelDirectory: dir, s3: s3Location })).jobName).toBe('from-dir');
    expect((await resolveBaseline({ s3: s3Location, manifestKey: 'custom/m.json' })).jobName).toBe('by-key');
    expect((await resolveBaseline({ s3: s3Location, jobName: 'by-job' })).jobName).toBe('by-job');
    expect((await resolveBaseline({ s3: s3Location })).source).toMatch(/^s3:\/\/scones\/models\/.+\/manifest\.json$/);
    await expect(resolveBaseline({})).rejects.toThrow('no model to compare with');
  });
});
