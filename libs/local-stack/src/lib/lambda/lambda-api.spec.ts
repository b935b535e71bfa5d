import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  paginateListFunctions,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type CreateFunctionCommandInput,
} from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../../testing';
import type { LambdaService } from './lambda-service';
import { ECHO_CJS, ECHO_PY, zipPackage } from './testing';

jest.setTimeout(60_000);

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function pythonFunction(name: string, files: Record<string, string> = { 'lambda_function.py': ECHO_PY }, extra: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput {
  return { FunctionName: name, Runtime: 'python3.12', Role: ROLE, Handler: 'lambda_function.lambda_handler', Code: { ZipFile: zipPackage(files) }, ...extra };
}

const text = (payload: Uint8Array | undefined) => Buffer.from(payload ?? []).toString('utf8');

describe('Lambda API (JS SDK v3)', () => {
  let stack: TestStack;
  let client: LambdaClient;
  beforeAll(async () => {
    stack = await startTestStack({ services: ['s3', 'lambda'] });
    client = new LambdaClient({ endpoint: stack.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await stack.dispose();
  });

  it('creates a function (Pending, then Active for the waiter) and answers its configuration as Lambda does', async () => {
    const created = await client.send(new CreateFunctionCommand(pythonFunction('shape-check', undefined, { Environment: { Variables: { MODE: 'test' } }, Timeout: 10, MemorySize: 256, Tags: { team: 'scones' } })));
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created).toMatchObject({
      FunctionName: 'shape-check',
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shape-check',
      Runtime: 'python3.12',
      Role: ROLE,
      Handler: 'lambda_function.lambda_handler',
      Timeout: 10,
      MemorySize: 256,
      Version: '$LATEST',
      Environment: { Variables: { MODE: 'test' } },
      State: 'Pending',
      StateReasonCode: 'Creating',
      PackageType: 'Zip',
      Architectures: ['x86_64'],
      LoggingConfig: { LogFormat: 'Text', LogGroup: '/aws/lambda/shape-check' },
    });
    expect(created.CodeSha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(created.LastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    const waited = await waitUntilFunctionActiveV2({ client, maxWaitTime: 20, minDelay: 1 }, { FunctionName: 'shape-check' });
    expect(waited.state).toBe('SUCCESS');
    const got = await client.send(new GetFunctionCommand({ FunctionName: 'shape-check' }));
    expect(got.Configuration).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful', CodeSha256: created.CodeSha256, RevisionId: created.RevisionId });
    expect(got.Tags).toEqual({ team: 'scones' });
    expect(got.Code?.RepositoryType).toBe('S3');
    // Code.Location serves the package that was uploaded.
    const download = await fetch(got.Code?.Location as string);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(zipPackage({ 'lambda_function.py': ECHO_PY }));
    const configuration = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:shape-check' }));
    expect(configuration).toMatchObject({ FunctionName: 'shape-check', State: 'Active' });
  });

  it('invokes RequestResponse, Event (202, in the background) and DryRun (204)', async () => {
    // Not under /tmp, which is the environment's own there, as on Lambda: in the stack's data directory.
    const dir = await mkdtemp(join(stack.dataDir, 'events-'));
    try {
      // The function records each event in a file of the test's own directory.
      await client.send(new CreateFunctionCommand(pythonFunction('invoke-types', { 'lambda_function.py': 'import json\n\ndef lambda_handler(event, context):\n    with open(event["file"], "a") as f:\n        f.write(json.dumps(event["n"]) + "\\n")\n    return {"n": event["n"]}\n' })));
      const file = join(dir, 'events.txt');
      const sync = await client.send(new InvokeCommand({ FunctionName: 'invoke-types', Payload: Buffer.from(JSON.stringify({ file, n: 1 })) }));
      expect(sync.StatusCode).toBe(200);
      expect(sync.ExecutedVersion).toBe('$LATEST');
      expect(sync.FunctionError).toBeUndefined();
      expect(JSON.parse(text(sync.Payload))).toEqual({ n: 1 });
      const event = await client.send(new InvokeCommand({ FunctionName: 'invoke-types', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ file, n: 2 })) }));
      expect(event.StatusCode).toBe(202);
      expect(text(event.Payload)).toBe('');
      const dry = await client.send(new InvokeCommand({ FunctionName: 'invoke-types', InvocationType: 'DryRun', Payload: Buffer.from(JSON.stringify({ file, n: 3 })) }));
      expect(dry.StatusCode).toBe(204);
      // The Event invocation runs in the background: wait for it, however long the machine takes.
      const deadline = Date.now() + 30_000;
      let lines: string[] = [];
      while (Date.now() < deadline) {
        lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
        if (lines.includes('2')) break;
        await new Promise((done) => setTimeout(done, 50));
      }
      // DryRun ran nothing.
      expect(lines).toEqual(['1', '2']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers an empty payload as the event {} and Tail with the last 4 KB of the log', async () => {
    await client.send(new CreateFunctionCommand(pythonFunction('tail', { 'lambda_function.py': 'def lambda_handler(event, context):\n    print("x" * 5000)\n    print("the end")\n    return event\n' })));
    const answer = await client.send(new InvokeCommand({ FunctionName: 'tail', LogType: 'Tail' }));
    expect(text(answer.Payload)).toBe('{}');
    const log = Buffer.from(answer.LogResult as string, 'base64');
    expect(log.length).toBe(4096);
    const lines = log.toString('utf8');
    expect(lines).toContain('the end\n');
    expect(lines).toMatch(new RegExp(`END RequestId: ${answer.$metadata.requestId}\nREPORT RequestId: ${answer.$metadata.requestId}\tDuration: [\\d.]+ ms\tBilled Duration: \\d+ ms\tMemory Size: 128 MB\tMax Memory Used: \\d+ MB\t`));
  });

  it('refuses a payload over 6 MB (RequestTooLargeException) and one that is not JSON', async () => {
    await client.send(new CreateFunctionCommand(pythonFunction('limits')));
    await expect(client.send(new InvokeCommand({ FunctionName: 'limits', Payload: Buffer.from(JSON.stringify({ a: 'x'.repeat(6 * 1024 * 1024) })) }))).rejects.toMatchObject({
      name: 'RequestTooLargeException',
      $metadata: { httpStatusCode: 413 },
      message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
    });
    await expect(client.send(new InvokeCommand({ FunctionName: 'limits', Payload: Buffer.from('not json') }))).rejects.toMatchObject({ name: 'InvalidRequestContentException', $metadata: { httpStatusCode: 400 } });
  });

  it('answers ResourceNotFoundException with the ARN, for every operation and for versions it does not have', async () => {
    const missing = { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 }, message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope' };
    await expect(client.send(new GetFunctionCommand({ FunctionName: 'nope' }))).rejects.toMatchObject(missing);
    await expect(client.send(new InvokeCommand({ FunctionName: 'nope' }))).rejects.toMatchObject(missing);
    await expect(client.send(new DeleteFunctionCommand({ FunctionName: 'nope' }))).rejects.toMatchObject(missing);
    await expect(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'nope', Timeout: 5 }))).rejects.toMatchObject(missing);
    await client.send(new CreateFunctionCommand(pythonFunction('versioned')));
    await expect(client.send(new InvokeCommand({ FunctionName: 'versioned', Qualifier: '3' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:versioned:3',
    });
    const latest = await client.send(new InvokeCommand({ FunctionName: 'versioned:$LATEST', Payload: Buffer.from('[1]') }));
    expect(text(latest.Payload)).toBe('[1]');
  });

  it('refuses a second function of the same name (ResourceConflictException)', async () => {
    await client.send(new CreateFunctionCommand(pythonFunction('twice')));
    await expect(client.send(new CreateFunctionCommand(pythonFunction('twice')))).rejects.toMatchObject({ name: 'ResourceConflictException', $metadata: { httpStatusCode: 409 }, message: 'Function already exist: twice' });
  });

  it('validates the configuration as Lambda does, naming the member', async () => {
    await expect(client.send(new CreateFunctionCommand(pythonFunction('bad-runtime', undefined, { Runtime: 'python3.99' as never })))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/^1 validation error detected: Value 'python3.99' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \[/),
    });
    await expect(client.send(new CreateFunctionCommand(pythonFunction('old-runtime', undefined, { Runtime: 'python3.7' })))).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: expect.stringContaining('The runtime parameter of python3.7 is no longer supported'),
    });
    await expect(client.send(new CreateFunctionCommand(pythonFunction('java', undefined, { Runtime: 'java21' })))).rejects.toMatchObject({ name: 'InvalidParameterValueException', message: expect.stringMatching(/^Runtime: the local stack runs Node\.js .* not java21$/) });
    await expect(client.send(new CreateFunctionCommand(pythonFunction('bad-handler', undefined, { Handler: 'lambda function.handler' })))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining("Value 'lambda function.handler' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+"),
    });
    await expect(client.send(new CreateFunctionCommand(pythonFunction('too-long', undefined, { Timeout: 901, MemorySize: 64 })))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/^2 validation errors detected: Value '901' at 'timeout' .*less than or equal to 900; Value '64' at 'memorySize' .*greater than or equal to 128$/),
    });
    await expect(client.send(new CreateFunctionCommand(pythonFunction('reserved', undefined, { Environment: { Variables: { AWS_REGION: 'eu-west-1' } } })))).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: expect.stringContaining('Reserved keys used in this request: AWS_REGION'),
    });
    await expect(client.send(new CreateFunctionCommand(pythonFunction('bad-role', undefined, { Role: 'lambda-role' })))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("at 'role'") });
    await expect(client.send(new CreateFunctionCommand(pythonFunction('layers', undefined, { Layers: ['arn:aws:lambda:us-east-1:123456789012:layer:x:1'] })))).rejects.toMatchObject({ name: 'InvalidParameterValueException', message: expect.stringMatching(/^Layers: /) });
    await expect(client.send(new CreateFunctionCommand({ ...pythonFunction('not-zip'), Code: { ZipFile: Buffer.from('def lambda_handler(e, c): pass\n') } }))).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: expect.stringContaining('Could not unzip uploaded file'),
    });
    const list = await client.send(new ListFunctionsCommand({}));
    expect(list.Functions?.map((f) => f.FunctionName)).not.toEqual(expect.arrayContaining(['bad-runtime', 'old-runtime', 'java', 'bad-handler', 'too-long', 'reserved', 'bad-role', 'layers', 'not-zip']));
  });

  it.each([
    ['zip-slip', { 'lambda_function.py': ECHO_PY, '../../escape.py': 'x = 1' }, /entry "\.\.\/\.\.\/escape\.py" points outside the package/],
    ['absolute', { 'lambda_function.py': ECHO_PY, '/tmp/abs.py': 'x = 1' }, /entry "\/tmp\/abs\.py" has an absolute path/],
    ['symlink', { 'lambda_function.py': ECHO_PY, 'link.py': { data: '/etc/passwd', symlink: true } }, /entry "link\.py" is a symbolic link/],
  ] as const)('refuses a hostile package (%s), naming the entry', async (name, files, message) => {
    await expect(client.send(new CreateFunctionCommand({ ...pythonFunction(`hostile-${name}`), Code: { ZipFile: zipPackage(files as never) } }))).rejects.toMatchObject({ name: 'InvalidParameterValueException', message: expect.stringMatching(message) });
    await expect(client.send(new GetFunctionCommand({ FunctionName: `hostile-${name}` }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('refuses an upload over Lambda\'s 50 MB (base64 in JSON) before reading it', async () => {
    const answer = await new Promise<{ status?: number; type?: string | string[]; body: string }>((resolve, reject) => {
      const req = request(`${stack.url}/2015-03-31/functions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(80 * 1024 * 1024), authorization: 'AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0' },
      });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode, type: res.headers['x-amzn-errortype'], body });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.write('{"FunctionName": "huge", "Code": {"ZipFile": "');
    });
    expect(answer).toMatchObject({ status: 413, type: 'RequestEntityTooLargeException' });
    expect(answer.body).toContain('Request must be smaller than 69905067 bytes for the CreateFunction operation');
  });

  it('updates code and configuration (InProgress, then Successful for the waiter); the next invocation runs the new version', async () => {
    await client.send(new CreateFunctionCommand(pythonFunction('updated', { 'lambda_function.py': 'import os\n\ndef lambda_handler(event, context):\n    return ["v1", os.environ.get("COLOR"), context.memory_limit_in_mb]\n' })));
    const first = await client.send(new InvokeCommand({ FunctionName: 'updated' }));
    expect(JSON.parse(text(first.Payload))).toEqual(['v1', null, '128']);
    const code = await client.send(new UpdateFunctionCodeCommand({ FunctionName: 'updated', ZipFile: zipPackage({ 'lambda_function.py': 'import os\n\ndef lambda_handler(event, context):\n    return ["v2", os.environ.get("COLOR"), context.memory_limit_in_mb]\n' }) }));
    expect(code).toMatchObject({ LastUpdateStatus: 'InProgress', State: 'Active' });
    expect((await waitUntilFunctionUpdatedV2({ client, maxWaitTime: 20, minDelay: 1 }, { FunctionName: 'updated' })).state).toBe('SUCCESS');
    expect(JSON.parse(text((await client.send(new InvokeCommand({ FunctionName: 'updated' }))).Payload))).toEqual(['v2', null, '128']);
    const configuration = await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'updated', Environment: { Variables: { COLOR: 'blue' } }, MemorySize: 512, Timeout: 30 }));
    expect(configuration).toMatchObject({ Environment: { Variables: { COLOR: 'blue' } }, MemorySize: 512, Timeout: 30, LastUpdateStatus: 'InProgress' });
    expect(JSON.parse(text((await client.send(new InvokeCommand({ FunctionName: 'updated' }))).Payload))).toEqual(['v2', 'blue', '512']);
    await expect(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'updated', Timeout: 5, RevisionId: 'stale' }))).rejects.toMatchObject({ name: 'PreconditionFailedException', $metadata: { httpStatusCode: 412 } });
    await expect(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'updated', Environment: { Variables: { AWS_LAMBDA_FUNCTION_NAME: 'x' } } }))).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
    expect((await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'updated' }))).Timeout).toBe(30);
  });

  it('creates a function from the stack\'s S3 and says which object is missing', async () => {
    const s3 = new S3Client({ endpoint: stack.url, region: 'us-east-1', forcePathStyle: true, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: 'code-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'code-bucket', Key: 'functions/echo.zip', Body: zipPackage({ 'lambda_function.py': ECHO_PY }) }));
    s3.destroy();
    await client.send(new CreateFunctionCommand({ ...pythonFunction('from-s3'), Code: { S3Bucket: 'code-bucket', S3Key: 'functions/echo.zip' } }));
    expect(text((await client.send(new InvokeCommand({ FunctionName: 'from-s3', Payload: Buffer.from('"hi"') }))).Payload)).toBe('"hi"');
    await expect(client.send(new CreateFunctionCommand({ ...pythonFunction('from-s3-missing'), Code: { S3Bucket: 'code-bucket', S3Key: 'functions/none.zip' } }))).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: expect.stringMatching(/^Error occurred while GetObject\. S3 Error Code: NoSuchKey\. .*s3:\/\/code-bucket\/functions\/none\.zip/),
    });
  });

  it('lists functions page by page (Marker / NextMarker) and deletes them', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) await client.send(new CreateFunctionCommand(pythonFunction(name)));
    const first = await client.send(new ListFunctionsCommand({ MaxItems: 2 }));
    expect(first.Functions).toHaveLength(2);
    expect(first.NextMarker).toBeDefined();
    expect(first.Functions?.[0]).not.toHaveProperty('State');
    const names: string[] = [];
    for await (const page of paginateListFunctions({ client, pageSize: 2 }, {})) names.push(...(page.Functions ?? []).map((f) => f.FunctionName as string));
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['page-a', 'page-b', 'page-c']));
    const deleted = await client.send(new DeleteFunctionCommand({ FunctionName: 'page-b' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    const after = await client.send(new ListFunctionsCommand({}));
    expect(after.Functions?.map((f) => f.FunctionName)).not.toContain('page-b');
    await expect(client.send(new ListFunctionsCommand({ Marker: 'garbage' }))).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
  });

  it('invokes in process with names, partial and full ARNs of any account and region', async () => {
    await client.send(new CreateFunctionCommand({ FunctionName: 'node-echo', Runtime: 'nodejs22.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zipPackage({ 'index.js': ECHO_CJS }) } }));
    const lambda = stack.service<LambdaService>('lambda') as LambdaService;
    for (const reference of ['node-echo', 'node-echo:$LATEST', '123456789012:function:node-echo', 'arn:aws:lambda:ap-south-1:999999999999:function:node-echo', 'arn:aws:lambda:us-east-1:000000000000:function:node-echo:$LATEST']) {
      const result = await lambda.invoke(reference, Buffer.from(JSON.stringify({ reference })), { logType: 'Tail' });
      expect(result).toMatchObject({ statusCode: 200, executedVersion: '$LATEST' });
      expect(JSON.parse(result.payload.toString())).toEqual({ reference });
      expect(Buffer.from(result.logResult as string, 'base64').toString()).toContain(`START RequestId: ${result.requestId} Version: $LATEST`);
    }
    await expect(lambda.invoke('arn:aws:lambda:us-east-1:000000000000:function:absent', '{}')).rejects.toMatchObject({ code: 'ResourceNotFoundException', status: 404 });
    expect((await lambda.invoke('node-echo', '{}', { invocationType: 'Event' })).statusCode).toBe(202);
  });
});

describe('Lambda state across restarts', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scones-lambda-restart-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('keeps functions and their code when the stack goes down and up', async () => {
    const first = await startTestStack({ services: ['lambda'], dataDir });
    const before = new LambdaClient({ endpoint: first.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    await before.send(new CreateFunctionCommand(pythonFunction('survivor', { 'lambda_function.py': 'def lambda_handler(event, context):\n    return "still here"\n' })));
    await before.send(new CreateFunctionCommand(pythonFunction('doomed')));
    await before.send(new DeleteFunctionCommand({ FunctionName: 'doomed' }));
    before.destroy();
    await first.dispose();

    const second = await startTestStack({ services: ['lambda'], dataDir });
    const after = new LambdaClient({ endpoint: second.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      expect((await after.send(new ListFunctionsCommand({}))).Functions?.map((f) => f.FunctionName)).toEqual(['survivor']);
      expect(text((await after.send(new InvokeCommand({ FunctionName: 'survivor' }))).Payload)).toBe('"still here"');
    } finally {
      after.destroy();
      await second.dispose();
    }
  });
});
