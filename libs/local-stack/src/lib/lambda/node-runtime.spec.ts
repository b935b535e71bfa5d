import { CreateFunctionCommand, InvokeCommand, LambdaClient, type CreateFunctionCommandInput } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../../testing';
import type { LambdaService } from './lambda-service';
import { ECHO_CJS, ECHO_MJS, zipPackage, type PackageFile } from './testing';

jest.setTimeout(120_000);

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('Node.js runtime', () => {
  let stack: TestStack;
  let client: LambdaClient;
  let lambda: LambdaService;
  const create = (name: string, files: Record<string, PackageFile>, extra: Partial<CreateFunctionCommandInput> = {}) =>
    client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs22.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zipPackage(files) }, ...extra }));
  const invoke = async (name: string, event: unknown = {}) => {
    const answer = await lambda.invoke(name, JSON.stringify(event), { logType: 'Tail' });
    return { ...answer, json: JSON.parse(answer.payload.toString('utf8')) as unknown, log: Buffer.from(answer.logResult ?? '', 'base64').toString('utf8') };
  };

  beforeAll(async () => {
    stack = await startTestStack({ services: ['s3', 'lambda'] });
    client = new LambdaClient({ endpoint: stack.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    lambda = stack.service<LambdaService>('lambda') as LambdaService;
  });
  afterAll(async () => {
    client.destroy();
    await stack.dispose();
  });

  it('runs CommonJS and ES module handlers (.mjs, and .js under "type": "module")', async () => {
    await create('cjs', { 'index.js': ECHO_CJS });
    await create('mjs', { 'index.mjs': ECHO_MJS });
    await create('esm-js', { 'index.js': ECHO_MJS, 'package.json': '{"type": "module"}' });
    await create('nested', { 'src/app.js': 'exports.handlers = { main: async (event) => ({ nested: event }) };\n' }, { Handler: 'src/app.handlers.main' });
    for (const name of ['cjs', 'mjs', 'esm-js']) expect((await invoke(name, { name })).json).toEqual({ name });
    expect((await invoke('nested', 1)).json).toEqual({ nested: 1 });
    // Through the HTTP API too.
    const http = await client.send(new InvokeCommand({ FunctionName: 'mjs', Payload: Buffer.from('{"via":"http"}') }));
    expect(JSON.parse(Buffer.from(http.Payload ?? []).toString())).toEqual({ via: 'http' });
  });

  it('runs callback handlers on nodejs20.x and refuses them from nodejs24.x on, as Lambda does', async () => {
    const source = 'exports.handler = (event, context, callback) => { setTimeout(() => callback(null, { called: true }), 10); };\n';
    await create('callback-20', { 'index.js': source }, { Runtime: 'nodejs20.x' });
    await create('callback-24', { 'index.js': source }, { Runtime: 'nodejs24.x' });
    expect((await invoke('callback-20')).json).toEqual({ called: true });
    const refused = await invoke('callback-24');
    expect(refused.functionError).toBe('Unhandled');
    expect(refused.json).toMatchObject({ errorType: 'Runtime.CallbackHandlerDeprecated', errorMessage: expect.stringContaining('removed support for callback-based function handlers starting with Node.js 24') });
  });

  it('gives the handler the context object and the Lambda environment; console lines carry the request id', async () => {
    const source = `exports.handler = async (event, context) => {
  console.log('hello', { from: 'console' });
  return {
    functionName: context.functionName, functionVersion: context.functionVersion, invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB, awsRequestId: context.awsRequestId, logGroupName: context.logGroupName,
    remainingOk: context.getRemainingTimeInMillis() > 0 && context.getRemainingTimeInMillis() <= 5000,
    env: { STAGE: process.env.STAGE, name: process.env.AWS_LAMBDA_FUNCTION_NAME, exec: process.env.AWS_EXECUTION_ENV, endpoint: process.env.AWS_ENDPOINT_URL, cwd: process.cwd() === process.env.LAMBDA_TASK_ROOT },
  };
};
`;
    await create('node-context', { 'index.js': source }, { Timeout: 5, MemorySize: 256, Environment: { Variables: { STAGE: 'local' } } });
    const answer = await invoke('node-context');
    expect(answer.json).toEqual({
      functionName: 'node-context',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:node-context',
      memoryLimitInMB: '256',
      awsRequestId: answer.requestId,
      logGroupName: '/aws/lambda/node-context',
      remainingOk: true,
      env: { STAGE: 'local', name: 'node-context', exec: 'AWS_Lambda_nodejs22.x', endpoint: stack.url, cwd: true },
    });
    expect(answer.log).toMatch(new RegExp(`\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${answer.requestId}\\tINFO\\thello { from: 'console' }\\n`));
  });

  it('provides the AWS SDK for JavaScript as the Node.js runtime does, configured for the stack', async () => {
    const s3 = new S3Client({ endpoint: stack.url, region: 'us-east-1', forcePathStyle: true, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: 'node-sdk-bucket' }));
    s3.destroy();
    const source = `import { S3Client, ListBucketsCommand } from '@aws-sdk/client-s3';
const s3 = new S3Client({ forcePathStyle: true });
export const handler = async () => (await s3.send(new ListBucketsCommand({}))).Buckets.map((b) => b.Name);
`;
    await create('node-sdk', { 'index.mjs': source });
    const listed = await invoke('node-sdk');
    expect(listed.functionError).toBeUndefined();
    expect(listed.json).toContain('node-sdk-bucket');
  });

  it('gives each execution environment its own /tmp, as Lambda does, through fs, fs/promises and streams', async () => {
    // Both environments write /tmp/image.png before either reads it back (they wait for each
    // other's marker in the stack's data directory): with one shared /tmp, one would read the other's.
    const source = `const fs = require('node:fs');
const { readFile, rename, readdir } = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { pipeline } = require('node:stream/promises');
exports.handler = async (event) => {
  fs.writeFileSync('/tmp/image.png', event.value);
  await pipeline(fs.createReadStream('/tmp/image.png'), fs.createWriteStream('/tmp/copy.png'));
  await rename('/tmp/copy.png', '/tmp/moved.png');
  fs.mkdirSync('/tmp/dir/sub', { recursive: true });
  fs.copyFileSync(new URL('file:///tmp/image.png'), '/tmp/dir/sub/again.png');
  fs.writeFileSync(path.join(event.markers, event.value), '');
  const deadline = Date.now() + 60000;
  while (!fs.existsSync(path.join(event.markers, event.other)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const esm = await import('./esm.mjs');
  return {
    read: await readFile('/tmp/image.png', 'utf8'),
    moved: fs.readFileSync(Buffer.from('/tmp/moved.png'), 'utf8'),
    again: await esm.read('/tmp/dir/sub/again.png'),
    listing: (await readdir('/tmp')).sort(),
    tmpdir: fs.realpathSync(os.tmpdir()),
    real: process.env.SCONES_LAMBDA_TMP,
    own: fs.readFileSync(path.join(__dirname, 'labels.txt'), 'utf8'),
  };
};
`;
    const esm = "import { readFile } from 'node:fs/promises';\nexport const read = (p) => readFile(p, 'utf8');\n";
    const markers = await mkdtemp(join(stack.dataDir, 'markers-'));
    await create('private-tmp', { 'index.js': source, 'esm.mjs': esm, 'labels.txt': 'bicycle,motorcycle' });
    const [a, b] = await Promise.all([invoke('private-tmp', { value: 'a', other: 'b', markers }), invoke('private-tmp', { value: 'b', other: 'a', markers })]);
    expect([a.functionError, b.functionError]).toEqual([undefined, undefined]);
    const results = [a.json, b.json] as Array<{ read: string; moved: string; again: string; listing: string[]; tmpdir: string; real: string; own: string }>;
    expect(results.map((r) => [r.read, r.moved, r.again])).toEqual([
      ['a', 'a', 'a'],
      ['b', 'b', 'b'],
    ]);
    for (const r of results) {
      expect(r.listing).toEqual(['dir', 'image.png', 'moved.png']);
      // The package's own files are read where they are (the test stack's data directory is under /tmp too).
      expect(r.own).toBe('bicycle,motorcycle');
      expect(r.tmpdir).toBe(await realpath(r.real));
      expect(r.real.startsWith(join(stack.dataDir, 'lambda', 'tmp'))).toBe(true);
      expect(await readFile(join(r.real, 'image.png'), 'utf8')).toBe(r.read);
    }
    expect(results[0].real).not.toBe(results[1].real);
  });

  it('answers errors as {errorType, errorMessage, trace}', async () => {
    await create('throws', { 'index.js': 'class ThresholdError extends Error { constructor(m) { super(m); this.name = "THRESHOLD_CONFIDENCE_NOT_MET"; } }\nexports.handler = async (event) => { if (event.kind === "string") throw "plain text"; throw new ThresholdError("too unsure"); };\n' });
    const thrown = await invoke('throws');
    expect(thrown.functionError).toBe('Unhandled');
    expect(thrown.json).toEqual({ errorType: 'THRESHOLD_CONFIDENCE_NOT_MET', errorMessage: 'too unsure', trace: expect.arrayContaining(['THRESHOLD_CONFIDENCE_NOT_MET: too unsure']) });
    expect(thrown.log).toContain(`\t${thrown.requestId}\tERROR\tInvoke Error \t{"errorType":"THRESHOLD_CONFIDENCE_NOT_MET","errorMessage":"too unsure","stack":[`);
    expect((await invoke('throws', { kind: 'string' })).json).toEqual({ errorType: 'string', errorMessage: 'plain text', trace: [] });
  });

  it.each([
    ['a missing file', 'missing-file', { 'other.js': ECHO_CJS }, 'index.handler', 'Runtime.ImportModuleError', /^Error: Cannot find module 'index'/],
    ['a missing export', 'missing-export', { 'index.js': 'exports.other = async () => 1;\n' }, 'index.handler', 'Runtime.HandlerNotFound', /^index\.handler is undefined or not exported$/],
    ['a syntax error', 'syntax-error', { 'index.js': 'exports.handler = async (event => event;\n' }, 'index.handler', 'Runtime.UserCodeSyntaxError', /^SyntaxError: /],
    ['a handler without an export name', 'bad-handler', { 'index.js': ECHO_CJS }, 'index', 'Runtime.MalformedHandlerName', /^Bad handler$/],
    ['a missing package', 'missing-package', { 'index.js': 'const sharp = require("sharp-not-installed");\nexports.handler = async () => 1;\n' }, 'index.handler', 'Runtime.ImportModuleError', /^Error: Cannot find module 'sharp-not-installed'/],
  ])('fails %s as the Node.js runtime does', async (label, name, files, handler, errorType, message) => {
    await create(name, files, { Handler: handler });
    const answer = await invoke(name);
    expect(answer.functionError).toBe('Unhandled');
    expect(answer.json).toMatchObject({ errorType, errorMessage: expect.stringMatching(message), trace: expect.any(Array) });
  });

  it('ends a function at its timeout and replaces an environment after an uncaught exception', async () => {
    await create('node-slow', { 'index.js': 'let calls = 0;\nexports.handler = async (event) => { calls++; if (event.sleep) await new Promise((r) => setTimeout(r, 30000)); if (event.crash) { setTimeout(() => { throw new Error("late crash"); }, 1); await new Promise(() => undefined); } return calls; };\n' }, { Timeout: 2 });
    expect((await invoke('node-slow')).json).toBe(1);
    const timedOut = await invoke('node-slow', { sleep: true });
    expect(timedOut.json).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${timedOut.requestId} Error: Task timed out after 2.00 seconds` });
    expect((await invoke('node-slow')).json).toBe(1);
    const crashed = await invoke('node-slow', { crash: true });
    expect(crashed.json).toMatchObject({ errorType: 'Error', errorMessage: 'late crash' });
    expect((await invoke('node-slow')).json).toBe(1);
  });
});
