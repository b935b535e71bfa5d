import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsCommand, ListObjectsV2Command, paginateListObjectsV2, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestStack, type TestStack } from '../../testing';
import { run, s3Client } from '../../../test/s3-helpers';
import { KeyIndex } from './key-index';
import { listPage } from './listing';
import { compareKeys } from './names';

// Directory-walk order would put data/test/… before data/test.lst; S3 order is the reverse.
const KEYS = ['data/test.lst', 'data/test/a.png', 'data/test/b.png', 'data/train.lst', 'data/train/a.png', 'data/train/b.png', 'data/train/c.png', 'models/m/manifest.json'];

// Real clients (and python3) on a shared, sometimes very busy machine: allow them time.
jest.setTimeout(120_000);

describe('S3 listings (conformance the project needed from s3rver, native here)', () => {
  let stack: TestStack;
  let client: S3Client;

  beforeAll(async () => {
    stack = await startTestStack({ services: ['s3'] });
    client = s3Client(stack.url);
    await client.send(new CreateBucketCommand({ Bucket: 'scones' }));
    for (const key of [...KEYS].reverse()) await client.send(new PutObjectCommand({ Bucket: 'scones', Key: key, Body: key }));
  });
  afterAll(async () => {
    client.destroy();
    await stack.dispose();
  });

  it('returns keys in lexicographic order and loses none across V1 pages (marker)', async () => {
    const keys: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await client.send(new ListObjectsCommand({ Bucket: 'scones', Prefix: 'data/', MaxKeys: 2, Marker: marker }));
      keys.push(...(page.Contents ?? []).map((c) => c.Key!));
      if (!page.IsTruncated) break;
      marker = page.NextMarker ?? keys.at(-1);
    }
    expect(keys).toEqual(KEYS.filter((k) => k.startsWith('data/')));
  });

  it('paginates ListObjectsV2 with continuation tokens (SDK paginator)', async () => {
    const keys: string[] = [];
    const pages: number[] = [];
    for await (const page of paginateListObjectsV2({ client, pageSize: 3 }, { Bucket: 'scones' })) {
      pages.push(page.KeyCount ?? -1);
      keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    }
    expect(keys).toEqual(KEYS);
    expect(pages).toEqual([3, 3, 2]);
  });

  it('rolls keys up into common prefixes with a delimiter, and honours StartAfter', async () => {
    const top = await client.send(new ListObjectsV2Command({ Bucket: 'scones', Prefix: 'data/', Delimiter: '/' }));
    expect((top.Contents ?? []).map((c) => c.Key)).toEqual(['data/test.lst', 'data/train.lst']);
    expect((top.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['data/test/', 'data/train/']);
    expect(top).toMatchObject({ KeyCount: 4, Delimiter: '/', Prefix: 'data/', IsTruncated: false });
    const after = await client.send(new ListObjectsV2Command({ Bucket: 'scones', StartAfter: 'data/train/a.png' }));
    expect((after.Contents ?? []).map((c) => c.Key)).toEqual(['data/train/b.png', 'data/train/c.png', 'models/m/manifest.json']);
    expect(after.StartAfter).toBe('data/train/a.png');
  });

  it('counts each common prefix once against max-keys, and pages through them', async () => {
    const seen: string[] = [];
    for await (const page of paginateListObjectsV2({ client, pageSize: 1 }, { Bucket: 'scones', Prefix: 'data/', Delimiter: '/' })) {
      seen.push(...(page.CommonPrefixes ?? []).map((p) => `P:${p.Prefix}`), ...(page.Contents ?? []).map((c) => c.Key!));
    }
    expect(seen).toEqual(['data/test.lst', 'P:data/test/', 'data/train.lst', 'P:data/train/']);
  });

  it('gives V1 NextMarker with a delimiter, and Owner on every V1 entry', async () => {
    const page = await client.send(new ListObjectsCommand({ Bucket: 'scones', Prefix: 'data/', Delimiter: '/', MaxKeys: 2 }));
    expect(page).toMatchObject({ IsTruncated: true, NextMarker: 'data/test/' });
    expect(page.Contents?.[0].Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
    const next = await client.send(new ListObjectsCommand({ Bucket: 'scones', Prefix: 'data/', Delimiter: '/', Marker: page.NextMarker }));
    expect([...(next.Contents ?? []).map((c) => c.Key), ...(next.CommonPrefixes ?? []).map((p) => p.Prefix)]).toEqual(['data/train.lst', 'data/train/']);
  });

  it('adds Owner to V2 entries only with fetch-owner', async () => {
    const without = await client.send(new ListObjectsV2Command({ Bucket: 'scones', MaxKeys: 1 }));
    expect(without.Contents?.[0].Owner).toBeUndefined();
    const withOwner = await client.send(new ListObjectsV2Command({ Bucket: 'scones', MaxKeys: 1, FetchOwner: true }));
    expect(withOwner.Contents?.[0].Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects a continuation token it did not issue, naming the argument', async () => {
    await expect(client.send(new ListObjectsV2Command({ Bucket: 'scones', ContinuationToken: 'bm90LW91cnM' }))).rejects.toMatchObject({
      name: 'InvalidArgument',
      message: expect.stringMatching(/continuation token/),
      ArgumentName: 'continuation-token',
    });
  });

  it('refuses a bad max-keys and encoding-type, naming them', async () => {
    const raw = async (query: string) => {
      const answer = await fetch(`${stack.url}/scones?${query}`);
      return [answer.status, await answer.text()] as const;
    };
    const [status, text] = await raw('list-type=2&max-keys=-1');
    expect(status).toBe(400);
    expect(text).toMatch(/<Code>InvalidArgument<\/Code>.*<ArgumentName>max-keys<\/ArgumentName>/s);
    expect((await raw('list-type=2&encoding-type=base64'))[1]).toMatch(/Invalid Encoding Method/);
    const zero = await client.send(new ListObjectsV2Command({ Bucket: 'scones', MaxKeys: 0 }));
    expect([zero.KeyCount, zero.IsTruncated]).toEqual([0, false]);
  });

  it('url-encodes keys with encoding-type=url', async () => {
    await client.send(new CreateBucketCommand({ Bucket: 'encoded' }));
    const odd = 'dir/a b+c&d<e>%f\u0001g';
    await client.send(new PutObjectCommand({ Bucket: 'encoded', Key: odd, Body: 'x' }));
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'encoded', EncodingType: 'url' }));
    expect(page.EncodingType).toBe('url');
    expect(decodeURIComponent(page.Contents![0].Key!)).toBe(odd);
    // Without encoding, XML escaping carries it (a control character as a character reference).
    const plain = await client.send(new ListObjectsV2Command({ Bucket: 'encoded' }));
    expect(plain.Contents![0].Key).toBe(odd);
  });

  it("works with boto3's paginator, with only AWS_ENDPOINT_URL in the environment", async () => {
    const script = join(stack.dataDir, 'paginate.py');
    await writeFile(
      script,
      [
        'import boto3',
        "s3 = boto3.client('s3')",
        "pages = s3.get_paginator('list_objects_v2').paginate(Bucket='scones', PaginationConfig={'PageSize': 2})",
        "print('\\n'.join(o['Key'] for p in pages for o in p.get('Contents', [])))",
      ].join('\n'),
    );
    const { stdout } = await run('python3', [script], { env: { ...process.env, ...stack.context.sdkEnvironment(), AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' } });
    expect(stdout.trim().split('\n')).toEqual(KEYS);
  });

  it('lists in code point (UTF-8 byte) order, as S3 does, not UTF-16 order', async () => {
    await client.send(new CreateBucketCommand({ Bucket: 'unicode' }));
    // U+FF21 (one UTF-16 unit) sorts before U+1F600 (a surrogate pair) in UTF-8, after it in UTF-16.
    const keys = ['a', '\u{1F600}', '\uFF21', 'é', 'Z'];
    for (const key of keys) await client.send(new PutObjectCommand({ Bucket: 'unicode', Key: key, Body: key }));
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'unicode' }));
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(byBytes);
    expect(byBytes).toEqual(['Z', 'a', 'é', '\uFF21', '\u{1F600}']);
  });
});

describe('listPage over a KeyIndex', () => {
  const indexOf = (keys: string[]) => {
    const index = new KeyIndex();
    for (const key of keys) index.set(key, { size: key.length, etag: 'e', lastModified: 0 });
    return index;
  };

  it('keeps order through deletes and re-puts (merge without duplicates)', () => {
    const index = indexOf(['b', 'a', 'c']);
    expect(index.keys()).toEqual(['a', 'b', 'c']);
    index.delete('b');
    index.set('b', { size: 9, etag: 'f', lastModified: 1 });
    index.set('d', { size: 1, etag: 'g', lastModified: 1 });
    index.delete('d');
    index.set('d', { size: 2, etag: 'h', lastModified: 1 });
    expect(index.keys()).toEqual(['a', 'b', 'c', 'd']);
    expect([index.size, index.totalBytes]).toEqual([4, 1 + 9 + 1 + 2]);
  });

  it('switches from native order to code point order when a key needs it', () => {
    const index = indexOf(['\uFF21', 'a', 'b']);
    expect(index.keys()).toEqual(['a', 'b', '\uFF21']);
    index.set('\u{1F600}', { size: 1, etag: 'e', lastModified: 0 });
    expect(index.keys()).toEqual(['a', 'b', '\uFF21', '\u{1F600}']);
    expect(listPage(index, { after: '\uFF21' }).objects.map((o) => o.key)).toEqual(['\u{1F600}']);
  });

  it('bulk-loads sorted entries, and sorts entries that are not', () => {
    const entry = { size: 1, etag: 'e', lastModified: 0 };
    expect(KeyIndex.fromSorted([['a', entry], ['b', entry]]).keys()).toEqual(['a', 'b']);
    expect(KeyIndex.fromSorted([['b', entry], ['a', entry]]).keys()).toEqual(['a', 'b']);
  });

  it('skips a rolled-up prefix when starting inside it', () => {
    const index = indexOf(['a/1', 'a/2', 'b/1', 'c']);
    expect(listPage(index, { delimiter: '/', after: 'a/1' })).toMatchObject({ commonPrefixes: ['b/'], objects: [{ key: 'c' }] });
    expect(listPage(index, { delimiter: '/', after: 'a/' })).toMatchObject({ commonPrefixes: ['b/'] });
  });

  it('treats a key equal to a prefix plus delimiter as part of that prefix', () => {
    const index = indexOf(['a/', 'a/x', 'b']);
    expect(listPage(index, { delimiter: '/' })).toMatchObject({ commonPrefixes: ['a/'], objects: [{ key: 'b' }] });
  });

  it('supports multi-character delimiters and prefixes that are not directories', () => {
    const index = indexOf(['x--1--a', 'x--1--b', 'x--2', 'xy']);
    expect(listPage(index, { prefix: 'x--', delimiter: '--' })).toMatchObject({ commonPrefixes: ['x--1--'], objects: [{ key: 'x--2' }] });
  });

  it('pages through 60 000 keys, 1000 at a time, losing none', () => {
    const index = indexOf(Array.from({ length: 60_000 }, (_, i) => `data/train/${String(i % 100)}/img_${String(i).padStart(6, '0')}.png`));
    let after: string | undefined;
    let total = 0;
    let pages = 0;
    for (;;) {
      const page = listPage(index, { prefix: 'data/', after });
      total += page.objects.length;
      pages++;
      if (!page.isTruncated) break;
      after = page.last;
    }
    expect([total, pages]).toEqual([60_000, 60]);
  });

  it('orders by code point', () => {
    expect(['\u{1F600}', '\uFF21', 'a'].sort(compareKeys)).toEqual(['a', '\uFF21', '\u{1F600}']);
    expect(compareKeys('ab', 'a')).toBeGreaterThan(0);
    expect(compareKeys('same', 'same')).toBe(0);
  });
});
