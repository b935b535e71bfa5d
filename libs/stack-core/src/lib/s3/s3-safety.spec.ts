import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestStack, type TestStack } from '../../testing';
import { filesUnder, rawHttp, run, s3Client, xmlCode } from '../../../test/s3-helpers';

jest.setTimeout(120_000);

/**
 * Issue 17 item 2: s3rver mapped keys to paths, so `../` in any encoding reached outside its
 * directory. Here the data directory sits four levels inside a sandbox with a file planted beside
 * it; every encoding is PUT, GET, listed and DELETEd, and the sandbox must hold exactly the planted
 * file and the data directory's own files afterwards.
 */
describe('S3 keys cannot reach outside the data directory', () => {
  let sandbox: string;
  let dataDir: string;
  let stack: TestStack;
  let client: S3Client;
  const planted = () => join(sandbox, 'somewhere', 'f');

  beforeAll(async () => {
    sandbox = await mkdtemp(join(tmpdir(), 'scones-s3-sandbox-'));
    dataDir = join(sandbox, 'a', 'b', 'c', 'data');
    await mkdir(join(sandbox, 'somewhere'), { recursive: true });
    await writeFile(planted(), 'planted outside');
    stack = await startTestStack({ services: ['s3'], dataDir });
    client = s3Client(stack.url);
    await client.send(new CreateBucketCommand({ Bucket: 'scones' }));
  });
  afterAll(async () => {
    client.destroy();
    await stack.dispose();
    await rm(sandbox, { recursive: true, force: true });
  });

  /** Nothing outside the data directory but the planted file, which is intact. */
  const expectSandboxUntouched = async () => {
    const outside = (await filesUnder(sandbox)).filter((f) => !f.startsWith('a/b/c/data/'));
    expect(outside).toEqual(['somewhere/f']);
    expect(await readFile(planted(), 'utf8')).toBe('planted outside');
  };

  // [what the request path says after /scones/, the key S3 must store]
  const CURL_CASES: Array<[string, string]> = [
    ['..%2F..%2F..%2F..%2Fsomewhere%2Ff', '../../../../somewhere/f'],
    ['../../../../somewhere/f', '../../../../somewhere/f'],
    ['%2e%2e/%2e%2e/%2e%2e/%2e%2e/somewhere/f', '../../../../somewhere/f'],
    ['%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Fsomewhere%2Ff', '../../../../somewhere/f'],
    ['..%5c..%5c..%5c..%5csomewhere%5cf', '..\\..\\..\\..\\somewhere\\f'],
    ['a//b', 'a//b'],
    ['/leading', '/leading'],
    ['.', '.'],
    ['..', '..'],
    ['./x/./y', './x/./y'],
    ['%00nul', '\u0000nul'],
    ['caf%C3%A9/%F0%9F%8D%B0', 'café/🍰'],
    [`${'..%2F'.repeat(200)}etc%2Fpasswd`, `${'../'.repeat(200)}etc/passwd`],
  ];

  it.each(CURL_CASES)('curl --path-as-is: %s is just a key that round-trips', async (path, key) => {
    const url = `${stack.url}/scones/${path}`;
    const body = `body of ${path}`;
    const put = await run('curl', ['--path-as-is', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT', '--data-binary', body, url]);
    expect(put.stdout).toBe('200');
    const get = await run('curl', ['--path-as-is', '-sS', url]);
    expect(get.stdout).toBe(body);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'scones', Prefix: key }));
    expect(listed.Contents?.map((c) => c.Key)).toContain(key);
    await expectSandboxUntouched();
    const del = await run('curl', ['--path-as-is', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'DELETE', url]);
    expect(del.stdout).toBe('204');
    expect((await run('curl', ['--path-as-is', '-sS', '-o', '/dev/null', '-w', '%{http_code}', url])).stdout).toBe('404');
    await expectSandboxUntouched();
  });

  it('never reads or deletes a file outside through a key (GET/DELETE of the planted path)', async () => {
    for (const path of ['../../../../somewhere/f', '..%2F..%2F..%2F..%2Fsomewhere%2Ff', '%2e%2e/%2e%2e/%2e%2e/%2e%2e/somewhere/f']) {
      const get = await run('curl', ['--path-as-is', '-sS', `${stack.url}/scones/${path}`]);
      expect(get.stdout).toMatch(/<Code>NoSuchKey<\/Code>/);
      await run('curl', ['--path-as-is', '-sS', '-X', 'DELETE', `${stack.url}/scones/${path}`]);
    }
    await expectSandboxUntouched();
  });

  it('the JS SDK: PutObject/GetObject/DeleteObject with traversal keys keep them as keys', async () => {
    const keys = ['../../../../somewhere/f', '..%2F..%2Fx', '%2e%2e/%2e%2e/y', '../', 'a/../b', '/../../abs'];
    for (const key of keys) {
      await client.send(new PutObjectCommand({ Bucket: 'scones', Key: key, Body: `sdk ${key}` }));
      const got = await client.send(new GetObjectCommand({ Bucket: 'scones', Key: key }));
      expect(await got.Body!.transformToString()).toBe(`sdk ${key}`);
    }
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'scones' }));
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual([...keys].sort());
    await expectSandboxUntouched();
    for (const key of keys) await client.send(new DeleteObjectCommand({ Bucket: 'scones', Key: key }));
    expect((await client.send(new ListObjectsV2Command({ Bucket: 'scones' }))).KeyCount).toBe(0);
    await expectSandboxUntouched();
  });

  it('raw HTTP: dot segments, encoded or not, path-style and virtual-hosted', async () => {
    const paths = ['/scones/../../../../somewhere/f', '/scones/%2e%2e/%2E%2E/%2e%2e/%2e%2e/somewhere/f', '/scones/..%2f..%2f..%2f..%2fsomewhere%2ff'];
    for (const path of paths) {
      const put = await rawHttp(stack.url, `PUT ${path} HTTP/1.1\r\nContent-Length: 3`, 'raw');
      expect(put.status).toBe(200);
    }
    const vhost = await rawHttp(stack.url, 'PUT /../../../../somewhere/g HTTP/1.1\r\nContent-Length: 5', 'vhost', { host: `scones.localhost:${stack.port}` });
    expect(vhost.status).toBe(200);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'scones' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['../../../../somewhere/f', '../../../../somewhere/g']);
    for (const key of ['../../../../somewhere/f', '../../../../somewhere/g']) await client.send(new DeleteObjectCommand({ Bucket: 'scones', Key: key }));
    await expectSandboxUntouched();
  });

  it('bucket names that try to traverse are refused or not found, and create nothing', async () => {
    const create = await rawHttp(stack.url, 'PUT /..%2F..%2Fevil HTTP/1.1\r\nContent-Length: 0');
    expect([create.status, xmlCode(create.body)]).toEqual([400, 'InvalidBucketName']);
    const put = await rawHttp(stack.url, 'PUT /..%2F..%2Fsomewhere/f HTTP/1.1\r\nContent-Length: 1', 'x');
    expect([put.status, xmlCode(put.body)]).toEqual([404, 'NoSuchBucket']);
    const get = await rawHttp(stack.url, 'GET /%2e%2e/f HTTP/1.1');
    expect([get.status, xmlCode(get.body)]).toEqual([404, 'NoSuchBucket']);
    await expectSandboxUntouched();
  });

  it('stores no file under a name derived from a key', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'scones', Key: 'visible/name.png', Body: 'x' }));
    const files = await filesUnder(dataDir);
    expect(files.some((f) => f.includes('visible') || f.includes('name.png'))).toBe(false);
    expect(files.filter((f) => f.startsWith('s3/buckets/scones/objects/')).every((f) => /^s3\/buckets\/scones\/objects\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(f))).toBe(true);
  });
});
