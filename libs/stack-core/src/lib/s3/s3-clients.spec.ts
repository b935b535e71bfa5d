import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestStack, type TestStack } from '../../testing';
import { run, s3Client } from '../../../test/s3-helpers';

// Each client starts a Python interpreter or the AWS CLI: seconds each on a busy machine.
jest.setTimeout(300_000);

const MiB = 1024 * 1024;

/**
 * The clients people point at the stack, unchanged: python3 + boto3 1.43 with only the
 * environment of `scones env` (AWS_ENDPOINT_URL), Debian's boto3 1.26 with `endpoint_url=`, the AWS
 * CLI 2.9 with `--endpoint-url`. Files above 8 MB make boto3 and the CLI use multipart uploads
 * and ranged, parallel downloads. The AWS CLI's cp/sync/rm workflow is in s3-cli.slow.spec.ts.
 */
describe('S3 with boto3 and the AWS CLI', () => {
  let stack: TestStack;
  let work: string;
  let client: S3Client;
  let big: Buffer;
  /** The stack's environment, with no user configuration from the machine leaking in. */
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stack = await startTestStack({ services: ['s3'] });
    work = await mkdtemp(join(tmpdir(), 'scones-s3-clients-'));
    client = s3Client(stack.url);
    big = randomBytes(12 * MiB + 4321);
    await writeFile(join(work, 'big.bin'), big);
    env = { ...process.env, ...stack.context.sdkEnvironment(), AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PAGER: '' };
  });
  afterAll(async () => {
    client.destroy();
    await stack.dispose();
    await rm(work, { recursive: true, force: true });
  });

  const python = async (interpreter: string, script: string, args: string[] = [], extraEnv: Record<string, string> = {}) => {
    const file = join(work, `script-${Math.random().toString(36).slice(2)}.py`);
    await writeFile(file, script);
    const { stdout } = await run(interpreter, [file, ...args], { env: { ...env, ...extraEnv }, maxBuffer: 16 * MiB });
    return JSON.parse(stdout) as Record<string, unknown>;
  };

  it('boto3 1.43 with only AWS_ENDPOINT_URL: upload_file (multipart), paginator, download_file, odd keys', async () => {
    const result = await python(
      'python3',
      `
import json, sys, boto3
s3 = boto3.client('s3')
b = 'boto3-new'
s3.create_bucket(Bucket=b)
s3.upload_file(sys.argv[1], b, 'big/file.bin')
head = s3.head_object(Bucket=b, Key='big/file.bin')
for i in range(25):
    s3.put_object(Bucket=b, Key=f'many/{i:03d}', Body=b'x')
odd = 'many/z odd+key & ünïcode/../%2e%2e'
s3.put_object(Bucket=b, Key=odd, Body=b'odd')
pages = list(s3.get_paginator('list_objects_v2').paginate(Bucket=b, Prefix='many/', PaginationConfig={'PageSize': 10}))
s3.download_file(b, 'big/file.bin', sys.argv[2])
got = s3.get_object(Bucket=b, Key=odd)['Body'].read().decode()
try:
    s3.get_object(Bucket=b, Key='missing')
    missing = None
except s3.exceptions.NoSuchKey as e:
    missing = e.response['Error']['Code']
print(json.dumps({'etag': head['ETag'], 'size': head['ContentLength'], 'pages': [len(p.get('Contents', [])) for p in pages],
  'keys': [o['Key'] for p in pages for o in p.get('Contents', [])], 'odd': got, 'missing': missing}))
`,
      [join(work, 'big.bin'), join(work, 'down-boto3.bin')],
    );
    expect(result.etag).toMatch(/^"[0-9a-f]{32}-2"$/); // 8 MiB parts: multipart
    expect(result.size).toBe(big.length);
    expect(result.pages).toEqual([10, 10, 6]);
    expect(result.keys).toEqual([...Array.from({ length: 25 }, (_, i) => `many/${String(i).padStart(3, '0')}`), 'many/z odd+key & ünïcode/../%2e%2e']);
    expect(result.odd).toBe('odd');
    expect(result.missing).toBe('NoSuchKey');
    expect((await readFile(join(work, 'down-boto3.bin'))).equals(big)).toBe(true);
  });

  it("Debian's boto3 1.26 with endpoint_url=: upload_file, download_file, delete_objects, copy_object", async () => {
    const result = await python(
      '/usr/bin/python3',
      `
import json, sys, boto3
s3 = boto3.client('s3', endpoint_url=sys.argv[3])
b = 'boto3-old'
s3.create_bucket(Bucket=b)
s3.upload_file(sys.argv[1], b, 'big.bin')
s3.download_file(b, 'big.bin', sys.argv[2])
s3.put_object(Bucket=b, Key='a', Body=b'1')
s3.copy_object(Bucket=b, Key='b', CopySource={'Bucket': b, 'Key': 'a'})
keys = [o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(Bucket=b) for o in p['Contents']]
deleted = s3.delete_objects(Bucket=b, Delete={'Objects': [{'Key': 'a'}, {'Key': 'b'}]})
left = [o['Key'] for o in s3.list_objects_v2(Bucket=b).get('Contents', [])]
print(json.dumps({'version': boto3.__version__, 'keys': keys, 'deleted': sorted(d['Key'] for d in deleted['Deleted']), 'left': left,
  'etag': s3.head_object(Bucket=b, Key='big.bin')['ETag']}))
`,
      [join(work, 'big.bin'), join(work, 'down-old.bin'), stack.url],
      { AWS_ENDPOINT_URL: '' },
    );
    expect(String(result.version)).toMatch(/^1\.26\./);
    expect(result).toMatchObject({ keys: ['a', 'b', 'big.bin'], deleted: ['a', 'b'], left: ['big.bin'] });
    expect(result.etag).toMatch(/-2"$/);
    expect((await readFile(join(work, 'down-old.bin'))).equals(big)).toBe(true);
  });

  it('the AWS CLI reports S3 errors by code', async () => {
    await client.send(new CreateBucketCommand({ Bucket: 'cli-errors' }));
    await expect(run('/usr/bin/aws', ['s3api', 'head-object', '--bucket', 'no-such-bucket-cli', '--key', 'k', '--endpoint-url', stack.url], { env })).rejects.toMatchObject({
      stderr: expect.stringMatching(/404/),
    });
    await expect(run('/usr/bin/aws', ['s3api', 'get-object', '--bucket', 'cli-errors', '--key', 'nope', join(work, 'nope'), '--endpoint-url', stack.url], { env })).rejects.toMatchObject({
      stderr: expect.stringMatching(/NoSuchKey/),
    });
  });
});
