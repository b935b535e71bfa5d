import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { localSdkEnvironment } from './client-config';
import { s3ClientConfigFromEnvironment } from './environment-client-config';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';

describe('s3ClientConfigFromEnvironment', () => {
  it('uses the SDK defaults when no endpoint is configured (AWS)', () => {
    expect(s3ClientConfigFromEnvironment({ AWS_REGION: 'eu-west-1' })).toEqual({});
  });

  it('uses path-style addressing when an S3 or global endpoint URL is configured', () => {
    expect(s3ClientConfigFromEnvironment({ AWS_ENDPOINT_URL_S3: 'http://localhost:4566' })).toEqual({ forcePathStyle: true });
    expect(s3ClientConfigFromEnvironment({ AWS_ENDPOINT_URL: 'http://minio:9000' })).toEqual({ forcePathStyle: true });
  });

  it('follows AWS_IGNORE_CONFIGURED_ENDPOINT_URLS like the SDK does', () => {
    expect(s3ClientConfigFromEnvironment({ AWS_ENDPOINT_URL_S3: 'http://localhost:4566', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toEqual({});
  });

  describe('against the embedded S3 addressed by host name', () => {
    let dir: string;
    let s3: LocalS3;
    const saved = { ...process.env };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'scones-s3-env-'));
      s3 = await startLocalS3({ directory: dir });
      // What a Lambda bundle sees: the standard variables, with "localhost" instead of the IP
      // (an IP endpoint gets path-style from the SDK's own endpoint rules; a host name does not).
      Object.assign(process.env, localSdkEnvironment(s3.target), { AWS_ENDPOINT_URL_S3: s3.endpoint.replace('127.0.0.1', 'localhost') });
    });
    afterAll(async () => {
      process.env = saved;
      await s3.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('round-trips an object with a client configured only from the environment', async () => {
      const client = new S3Client(s3ClientConfigFromEnvironment());
      await client.send(new PutObjectCommand({ Bucket: 'scones', Key: 'env/a.bin', Body: Buffer.from([7, 8]) }));
      const got = await client.send(new GetObjectCommand({ Bucket: 'scones', Key: 'env/a.bin' }));
      expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(Buffer.from([7, 8]));
    });
  });
});
