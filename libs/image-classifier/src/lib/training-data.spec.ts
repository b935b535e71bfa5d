import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { writeStagedChannel } from '../../test/fixtures';
import { hasChannel, readChannel } from './training-data';

describe('readChannel', () => {
  let root: string;
  let data: string;
  let s3: LocalS3;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'scones-channel-'));
    s3 = await startLocalS3({ directory: join(root, 's3'), buckets: ['scones'] });
  });
  afterAll(async () => {
    await s3.stop();
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    data = await mkdtemp(join(root, 'staged-'));
    await writeStagedChannel(data, 'train', 3);
  });

  it('reads the .lst rows and decodes every image, in .lst order', async () => {
    const images = await readChannel({ directory: data }, 'train', { numClasses: 2 });
    expect(images.map((x) => x.label)).toEqual([0, 1, 0, 1, 0, 1]);
    expect(images[1].name).toBe(join(data, 'data/train/img_train_1_0.png'));
    expect(images[0].image).toMatchObject({ width: 32, height: 32 });
    expect(await hasChannel({ directory: data }, 'train')).toBe(true);
    expect(await hasChannel({ directory: data }, 'test')).toBe(false);
  });

  it('reads the same channel from S3', async () => {
    const client = createS3Client(s3.target);
    const lst = await readFile(join(data, 'data/train.lst'));
    await client.send(new PutObjectCommand({ Bucket: 'scones', Key: 'data/train.lst', Body: lst }));
    for (const line of lst.toString().trim().split('\n')) {
      const name = line.split('\t')[2];
      await client.send(new PutObjectCommand({ Bucket: 'scones', Key: `data/train/${name}`, Body: await readFile(join(data, 'data/train', name)) }));
    }
    const fromS3 = await readChannel({ s3: client, bucket: 'scones' }, 'train', { numClasses: 2 });
    const fromDisk = await readChannel({ directory: data }, 'train', { numClasses: 2 });
    expect(fromS3.map((x) => [x.label, x.image])).toEqual(fromDisk.map((x) => [x.label, x.image]));
    expect(fromS3[0].name).toBe('s3://scones/data/train/img_train_0_0.png');
    await client.send(new PutObjectCommand({ Bucket: 'scones', Key: 'data/test.lst', Body: '0\t0\tgone.png\n' }));
    await expect(readChannel({ s3: client, bucket: 'scones' }, 'test', { numClasses: 2 })).rejects.toThrow(
      's3://scones/data/test/gone.png not found (listed in s3://scones/data/test.lst line 1)',
    );
  });

  it('names the .lst line of a label out of range', async () => {
    await writeFile(join(data, 'data/train.lst'), '0\t0\timg_train_0_0.png\n\n1\t2\timg_train_1_0.png\n');
    await expect(readChannel({ directory: data }, 'train', { numClasses: 2, classNames: ['bicycle', 'motorcycle'] })).rejects.toThrow(
      `${join(data, 'data/train.lst')} line 3: label 2 is out of range for 2 classes (bicycle, motorcycle)`,
    );
  });

  it('names a missing image and the .lst line that lists it', async () => {
    await rm(join(data, 'data/train/img_train_1_1.png'));
    await expect(readChannel({ directory: data }, 'train', { numClasses: 2 })).rejects.toThrow(
      `${join(data, 'data/train/img_train_1_1.png')} not found (listed in ${join(data, 'data/train.lst')} line 4)`,
    );
  });

  it('names a corrupt image', async () => {
    await writeFile(join(data, 'data/train/img_train_0_2.png'), 'not a png');
    await expect(readChannel({ directory: data }, 'train', { numClasses: 2 })).rejects.toThrow(`${join(data, 'data/train/img_train_0_2.png')}: not a PNG or JPEG image`);
  });

  it('names a malformed .lst line and a missing .lst', async () => {
    await writeFile(join(data, 'data/train.lst'), '0\t0\timg_train_0_0.png\nbroken line\n');
    await expect(readChannel({ directory: data }, 'train', { numClasses: 2 })).rejects.toThrow(`${join(data, 'data/train.lst')} line 2: expected 3 tab-separated fields`);
    await expect(readChannel({ directory: data }, 'test', { numClasses: 2 })).rejects.toThrow(`${join(data, 'data/test.lst')} not found: stage the data first (scones stage)`);
    await writeFile(join(data, 'data/train.lst'), '\n');
    await expect(readChannel({ directory: data }, 'train', { numClasses: 2 })).rejects.toThrow('lists no images');
  });
});
