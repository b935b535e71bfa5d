import { CreateFunctionCommand, LambdaClient, UpdateFunctionConfigurationCommand, type CreateFunctionCommandInput } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../../testing';
import type { LogsService } from '../logs/logs-service';
import { createLambdaService, type LambdaService } from './lambda-service';
import { FILTER_CUSTOM_EXCEPTION_PY, FILTER_EXCEPTION_PY, FILTER_RAISE_STRING_PY, FILTER_STATUS_500_PY, SERIALIZE_PY, zipPackage, type PackageFile } from './testing';
import { SERVICE_FACTORIES } from '../services';

jest.setTimeout(120_000);

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
/** Debian's python3 with boto3 1.26 (ignores AWS_ENDPOINT_URL) and the machine's python3 (boto3 1.43). */
const INTERPRETERS = ['/usr/bin/python3', 'python3'] as const;

interface Harness {
  stack: TestStack;
  client: LambdaClient;
  lambda: LambdaService;
  create(name: string, files: Record<string, PackageFile>, extra?: Partial<CreateFunctionCommandInput>): Promise<void>;
  invoke(name: string, event?: unknown): Promise<{ payload: string; json: unknown; functionError?: string; log: string; requestId: string }>;
  dispose(): Promise<void>;
}

async function harness(options: { python?: string; maxEnvironmentsPerFunction?: number; idleMs?: number; services?: Array<'s3' | 'logs' | 'sagemaker' | 'sagemaker-runtime'> } = {}): Promise<Harness> {
  const services = [...(options.services ?? []), 'lambda'];
  const factories = SERVICE_FACTORIES.filter(([id]) => services.includes(id)).map(([id, factory]) =>
    id === 'lambda' ? ([id, (ctx: Parameters<typeof createLambdaService>[0]) => createLambdaService(ctx, { python: options.python, maxEnvironmentsPerFunction: options.maxEnvironmentsPerFunction, idleMs: options.idleMs })] as const) : ([id, factory] as const),
  );
  const stack = await startTestStack({ factories });
  const client = new LambdaClient({ endpoint: stack.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  const lambda = stack.service<LambdaService>('lambda') as LambdaService;
  return {
    stack,
    client,
    lambda,
    async create(name, files, extra = {}) {
      await client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'python3.11', Role: ROLE, Handler: 'lambda_function.lambda_handler', Code: { ZipFile: zipPackage(files) }, ...extra }));
    },
    async invoke(name, event = {}) {
      const answer = await lambda.invoke(name, JSON.stringify(event), { logType: 'Tail' });
      const payload = answer.payload.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(payload);
      } catch {
        json = undefined;
      }
      return { payload, json, functionError: answer.functionError, log: Buffer.from(answer.logResult ?? '', 'base64').toString('utf8'), requestId: answer.requestId };
    },
    async dispose() {
      client.destroy();
      await stack.dispose();
    },
  };
}

describe('Python runtime', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ services: ['logs'] });
  });
  afterAll(() => h.dispose());

  it('marshals results as the Lambda Python runtime does: bytes as UTF-8 text, Decimal as digits, namedtuples as objects', async () => {
    const source = `import collections, decimal
Point = collections.namedtuple("Point", "x y")

def lambda_handler(event, context):
    return {"bytes": b"aGVsbG8=", "decimal": decimal.Decimal("1.10"), "nan": decimal.Decimal("NaN"), "point": Point(1, 2), "tuple": (1, 2), "text": "caf\\u00e9", b"key": [None, True, 1.5]}
`;
    await h.create('marshal-311', { 'lambda_function.py': source });
    await h.create('marshal-312', { 'lambda_function.py': source }, { Runtime: 'python3.12' });
    const old = await h.invoke('marshal-311');
    expect(old.functionError).toBeUndefined();
    expect(old.payload).toBe('{"bytes": "aGVsbG8=", "decimal": 1.10, "nan": NaN, "point": {"x": 1, "y": 2}, "tuple": [1, 2], "text": "caf\\u00e9", "key": [null, true, 1.5]}');
    // From python3.12 on the runtime writes non-ASCII characters as they are.
    expect((await h.invoke('marshal-312')).payload).toContain('"text": "café"');
  });

  it('returns a top-level bytes result raw, and fails what cannot be marshalled with Runtime.MarshalError', async () => {
    await h.create('raw-bytes', { 'lambda_function.py': 'def lambda_handler(event, context):\n    return b"\\x89PNG raw"\n' });
    const raw = await h.lambda.invoke('raw-bytes', '{}');
    expect(raw.payload).toEqual(Buffer.from('\x89PNG raw', 'latin1'));
    await h.create('unmarshallable', { 'lambda_function.py': 'def lambda_handler(event, context):\n    return {"ids": {1, 2}}\n' });
    const set = await h.invoke('unmarshallable');
    expect(set.functionError).toBe('Unhandled');
    expect(set.json).toEqual({ errorMessage: 'Unable to marshal response: Object of type set is not JSON serializable', errorType: 'Runtime.MarshalError', requestId: set.requestId, stackTrace: [] });
    await h.create('not-utf8', { 'lambda_function.py': 'def lambda_handler(event, context):\n    return {"image": b"\\x89PNG"}\n' });
    expect(((await h.invoke('not-utf8')).json as { errorType: string; errorMessage: string }).errorMessage).toMatch(/^Unable to marshal response: 'utf-8' codec can't decode byte 0x89/);
  });

  it.each([
    ['raise("...") is a TypeError', FILTER_RAISE_STRING_PY, 'TypeError', 'exceptions must derive from BaseException'],
    ['raise Exception(...)', FILTER_EXCEPTION_PY, 'Exception', 'THRESHOLD_CONFIDENCE_NOT_MET'],
    ['a custom exception class', FILTER_CUSTOM_EXCEPTION_PY, 'Threshold_Confidence_Not_Met', 'THRESHOLD_CONFIDENCE_NOT_MET'],
  ])('turns %s into errorType and the traceback of the function', async (label, source, errorType, errorMessage) => {
    const name = `filter-${errorType.toLowerCase().replace(/_/g, '-')}`;
    await h.create(name, { 'lambda_function.py': source });
    const answer = await h.invoke(name, { body: { inferences: [0.6, 0.4] } });
    expect(answer.functionError).toBe('Unhandled');
    const error = answer.json as { errorMessage: string; errorType: string; requestId: string; stackTrace: string[] };
    expect(error).toMatchObject({ errorType, errorMessage, requestId: answer.requestId });
    expect(Object.keys(error)).toEqual(['errorMessage', 'errorType', 'requestId', 'stackTrace']);
    expect(error.stackTrace[0]).toMatch(/^ {2}File ".*lambda_function\.py", line \d+, in lambda_handler\n/);
    expect(error.stackTrace.join('')).not.toContain('bootstrap.py');
    expect(answer.log).toContain(`[ERROR] ${errorType}: ${errorMessage}\rTraceback (most recent call last):\r\u00a0\u00a0File`);
    // Confident enough: the same function passes.
    expect((await h.invoke(name, { body: { inferences: [0.99, 0.01] } })).functionError).toBeUndefined();
  });

  it('answers statusCode 500 in the result as a success of the function', async () => {
    await h.create('filter-500', { 'lambda_function.py': FILTER_STATUS_500_PY });
    const answer = await h.invoke('filter-500', { body: { inferences: [0.5, 0.5] } });
    expect(answer.functionError).toBeUndefined();
    expect(answer.json).toEqual({ statusCode: 500, body: '"THRESHOLD_CONFIDENCE_NOT_MET"' });
  });

  it.each([
    ['a module the zip lacks (import sagemaker)', 'init-sagemaker', { 'lambda_function.py': 'import sagemaker\n\ndef lambda_handler(event, context):\n    return 1\n' }, 'lambda_function.lambda_handler', 'Runtime.ImportModuleError', "Unable to import module 'lambda_function': No module named 'sagemaker'"],
    ['a zip without the handler module', 'init-no-module', { 'other.py': 'x = 1\n' }, 'lambda_function.lambda_handler', 'Runtime.ImportModuleError', "Unable to import module 'lambda_function': No module named 'lambda_function'"],
    ['a handler that does not exist', 'init-no-handler', { 'lambda_function.py': 'def handler(event, context):\n    return 1\n' }, 'lambda_function.lambda_handler', 'Runtime.HandlerNotFound', "Handler 'lambda_handler' missing on module 'lambda_function'"],
    ['a handler without a function name', 'init-bad-handler', { 'lambda_function.py': 'x = 1\n' }, 'lambda_function', 'Runtime.MalformedHandlerName', "Bad handler 'lambda_function': not enough values to unpack (expected 2, got 1)"],
  ])('fails %s at invoke as Lambda does', async (label, name, files, handler, errorType, errorMessage) => {
    await h.create(name, files, { Handler: handler });
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await h.invoke(name);
      expect(answer.functionError).toBe('Unhandled');
      expect(answer.json).toEqual({ errorMessage, errorType, requestId: '', stackTrace: [] });
      expect(answer.log).toContain(`[ERROR] ${errorType}: ${errorMessage}`);
      expect(answer.log).toMatch(/INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: /);
    }
  });

  it('fails a syntax error with Runtime.UserCodeSyntaxError naming the file and line', async () => {
    await h.create('syntax', { 'lambda_function.py': 'def lambda_handler(event, context)\n    return 1\n' });
    const answer = await h.invoke('syntax');
    const error = answer.json as { errorType: string; errorMessage: string; stackTrace: string[] };
    expect(error.errorType).toBe('Runtime.UserCodeSyntaxError');
    expect(error.errorMessage).toMatch(/^Syntax error in module 'lambda_function': .*\(lambda_function\.py, line 1\)$/);
    expect(error.stackTrace[0]).toMatch(/^ {2}File ".*lambda_function\.py" Line 1\n/);
  });

  it('loads handlers of dotted packages and directories', async () => {
    const files = { 'pkg/__init__.py': '', 'pkg/inner/__init__.py': '', 'pkg/inner/app.py': 'def go(event, context):\n    return __name__\n', 'src/main.py': 'def go(event, context):\n    return __name__\n' };
    await h.create('dotted', files, { Handler: 'pkg.inner.app.go' });
    expect((await h.invoke('dotted')).json).toBe('pkg.inner.app');
    await h.create('slashed', files, { Handler: 'src/main.go' });
    expect((await h.invoke('slashed')).json).toBe('src.main');
  });

  it('gives the handler the context object and environment of Lambda', async () => {
    const source = `import os

def lambda_handler(event, context):
    remaining = context.get_remaining_time_in_millis()
    return {
        "function_name": context.function_name, "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn, "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id, "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name, "remaining_ok": 0 < remaining <= 7000,
        "env": {k: os.environ.get(k) for k in ["STAGE", "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_ENDPOINT_URL", "_HANDLER"]},
        "cwd_is_task_root": os.getcwd() == os.environ["LAMBDA_TASK_ROOT"],
    }
`;
    await h.create('context', { 'lambda_function.py': source }, { Timeout: 7, MemorySize: 512, Environment: { Variables: { STAGE: 'local' } } });
    const answer = await h.lambda.invoke('arn:aws:lambda:eu-west-1:123456789012:function:context', '{}', { region: 'eu-west-1' });
    const value = JSON.parse(answer.payload.toString()) as Record<string, unknown>;
    expect(value).toEqual({
      function_name: 'context',
      function_version: '$LATEST',
      invoked_function_arn: 'arn:aws:lambda:eu-west-1:000000000000:function:context',
      memory_limit_in_mb: '512',
      aws_request_id: answer.requestId,
      log_group_name: '/aws/lambda/context',
      log_stream_name: expect.stringMatching(/^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/),
      remaining_ok: true,
      env: { STAGE: 'local', AWS_LAMBDA_FUNCTION_NAME: 'context', AWS_REGION: 'us-east-1', AWS_EXECUTION_ENV: 'AWS_Lambda_python3.11', AWS_ENDPOINT_URL: h.stack.url, _HANDLER: 'lambda_function.lambda_handler' },
      cwd_is_task_root: true,
    });
  });

  it('sends print() and logging output to the function\'s log group', async () => {
    const source = `import logging
logger = logging.getLogger()
logger.setLevel(logging.INFO)
print("loading function")

def lambda_handler(event, context):
    print("hello from print")
    logger.info("hello from logging")
    return context.log_stream_name
`;
    await h.create('logging', { 'lambda_function.py': source });
    const answer = await h.invoke('logging');
    expect(answer.log.startsWith(`loading function\nSTART RequestId: ${answer.requestId}`)).toBe(true);
    expect(answer.log).toContain(`START RequestId: ${answer.requestId} Version: $LATEST\nhello from print\n[INFO]\t`);
    expect(answer.log).toMatch(new RegExp(`\\[INFO\\]\\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t${answer.requestId}\\thello from logging\\n`));
    const logs = h.stack.service<LogsService>('logs') as LogsService;
    const events = logs.events('/aws/lambda/logging', answer.json as string) ?? [];
    expect(events.map((e) => e.message)).toEqual(expect.arrayContaining(['hello from print\n', `END RequestId: ${answer.requestId}\n`]));
  });

  it('ends a function at its timeout with Sandbox.Timedout, and the next invocation starts a fresh environment', async () => {
    await h.create('slow', { 'lambda_function.py': 'import time\nCALLS = []\n\ndef lambda_handler(event, context):\n    CALLS.append(1)\n    if event.get("sleep"):\n        time.sleep(30)\n    return len(CALLS)\n' }, { Timeout: 1 });
    expect((await h.invoke('slow')).json).toBe(1);
    const timedOut = await h.invoke('slow', { sleep: true });
    expect(timedOut.functionError).toBe('Unhandled');
    expect(timedOut.json).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${timedOut.requestId} Error: Task timed out after 1.00 seconds` });
    expect(timedOut.log).toMatch(new RegExp(`${timedOut.requestId} Task timed out after 1\\.00 seconds\\n`));
    expect(timedOut.log).toContain('Status: timeout');
    // The killed environment is gone: module state starts again.
    expect((await h.invoke('slow')).json).toBe(1);
  });

  it('reports a runtime that exits (sys.exit) as Runtime.ExitError', async () => {
    await h.create('exits', { 'lambda_function.py': 'import sys\n\ndef lambda_handler(event, context):\n    sys.exit(3)\n' });
    const answer = await h.invoke('exits');
    expect(answer.json).toEqual({ errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${answer.requestId} Error: Runtime exited with error: exit status 3` });
  });

  it('keeps the environment warm between invocations and starts a new one after a configuration change', async () => {
    await h.create('warm', { 'lambda_function.py': 'import os\nCOUNT = [0]\n\ndef lambda_handler(event, context):\n    COUNT[0] += 1\n    return [os.getpid(), COUNT[0], os.environ.get("VERSION")]\n' });
    const [pid, count] = (await h.invoke('warm')).json as [number, number];
    expect(count).toBe(1);
    expect((await h.invoke('warm')).json).toEqual([pid, 2, null]);
    await h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'warm', Environment: { Variables: { VERSION: 'new' } } }));
    const after = (await h.invoke('warm')).json as [number, number, string];
    expect(after[0]).not.toBe(pid);
    expect(after.slice(1)).toEqual([1, 'new']);
  });
});

describe('Python runtime concurrency', () => {
  it('runs concurrent invocations in separate environments up to the limit, then queues them', async () => {
    const source = 'import os, time\n\ndef lambda_handler(event, context):\n    time.sleep(0.3)\n    return os.getpid()\n';
    const two = await harness({ maxEnvironmentsPerFunction: 2 });
    const one = await harness({ maxEnvironmentsPerFunction: 1 });
    try {
      await two.create('parallel', { 'lambda_function.py': source });
      await one.create('parallel', { 'lambda_function.py': source });
      const [a, b] = await Promise.all([two.invoke('parallel'), two.invoke('parallel')]);
      expect(a.json).not.toBe(b.json);
      const [c, d] = await Promise.all([one.invoke('parallel'), one.invoke('parallel')]);
      expect(c.json).toBe(d.json);
    } finally {
      await two.dispose();
      await one.dispose();
    }
  });

  it('gives each execution environment its own /tmp, as Lambda does, and removes it with the environment', async () => {
    // Both environments write /tmp/image.png before either reads it back (they wait for each
    // other's marker outside /tmp): with one shared /tmp, one of them would read the other's.
    const source = [
      'import os, pathlib, shutil, tempfile, time',
      '',
      'def lambda_handler(event, context):',
      '    with open("/tmp/image.png", "w") as f:',
      '        f.write(event["value"])',
      '    shutil.copyfile("/tmp/image.png", "/tmp/copy.png")',
      '    os.rename("/tmp/copy.png", "/tmp/moved.png")',
      '    open(os.path.join(event["markers"], event["value"]), "w").close()',
      '    deadline = time.time() + 60',
      '    while not os.path.exists(os.path.join(event["markers"], event["other"])) and time.time() < deadline:',
      '        time.sleep(0.01)',
      '    return {',
      '        "read": pathlib.Path("/tmp/image.png").read_text(),',
      '        "moved": open(b"/tmp/moved.png", "rb").read().decode(),',
      '        "listing": sorted(os.listdir("/tmp")),',
      '        "tempdir": os.path.realpath(tempfile.gettempdir()),',
      '        "real": os.environ["SCONES_LAMBDA_TMP"],',
      '        "own": open(os.path.join(os.path.dirname(__file__), "labels.txt")).read(),',
      '    }',
      '',
    ].join('\n');
    const two = await harness({ maxEnvironmentsPerFunction: 2 });
    // Under the stack's data directory: a real directory the redirect leaves alone (the data
    // directory of a test stack is itself under the machine's /tmp).
    const markers = await mkdtemp(join(two.stack.dataDir, 'markers-'));
    try {
      await two.create('private-tmp', { 'lambda_function.py': source, 'labels.txt': 'bicycle,motorcycle' });
      const [a, b] = await Promise.all([
        two.invoke('private-tmp', { value: 'a', other: 'b', markers }),
        two.invoke('private-tmp', { value: 'b', other: 'a', markers }),
      ]);
      expect([a.functionError, b.functionError, a.payload]).toEqual([undefined, undefined, expect.stringContaining("read")]);
      const results = [a.json, b.json] as Array<{ read: string; moved: string; listing: string[]; tempdir: string; real: string; own: string }>;
      expect(results.map((r) => [r.read, r.moved])).toEqual([['a', 'a'], ['b', 'b']]);
      for (const r of results) {
        expect(r.listing).toEqual(['image.png', 'moved.png']);
        // The package's own files are read where they are (the code directory is under /tmp here too).
        expect(r.own).toBe('bicycle,motorcycle');
        expect(r.tempdir).toBe(await realpath(r.real));
        expect(r.real.startsWith(join(two.stack.dataDir, 'lambda', 'tmp'))).toBe(true);
        expect(await readFile(join(r.real, 'image.png'), 'utf8')).toBe(r.read);
      }
      expect(results[0].real).not.toBe(results[1].real);
      await two.lambda.close?.();
      for (const r of results) await expect(stat(r.real)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await two.dispose();
    }
  });

  it('stops environments that stay idle', async () => {
    const h = await harness({ idleMs: 200 });
    try {
      await h.create('idle', { 'lambda_function.py': 'def lambda_handler(event, context):\n    return 1\n' });
      await h.invoke('idle');
      const deadline = Date.now() + 30_000;
      let environments = -1;
      while (Date.now() < deadline) {
        environments = ((await h.stack.status()).services.lambda as { environments: number }).environments;
        if (environments === 0) break;
        await new Promise((done) => setTimeout(done, 100));
      }
      expect(environments).toBe(0);
    } finally {
      await h.dispose();
    }
  });
});

describe.each(INTERPRETERS)('boto3 in functions run by %s', (python) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ python, services: ['s3', 'sagemaker', 'sagemaker-runtime'] });
    const s3 = new S3Client({ endpoint: h.stack.url, region: 'us-east-1', forcePathStyle: true, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: 'scones-data' }));
    await s3.send(new PutObjectCommand({ Bucket: 'scones-data', Key: 'test/bicycle_s_000030.png', Body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]) }));
    s3.destroy();
  });
  afterAll(() => h.dispose());

  it('serializes an S3 image with an unchanged course function (boto3 reaches the stack; bytes become base64 text)', async () => {
    await h.create('serializeImageData', { 'lambda_function.py': SERIALIZE_PY }, { Timeout: 30 });
    const answer = await h.invoke('serializeImageData', { s3_bucket: 'scones-data', s3_key: 'test/bicycle_s_000030.png' });
    expect(answer.functionError).toBeUndefined();
    expect(answer.json).toEqual({
      statusCode: 200,
      body: { image_data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).toString('base64'), s3_bucket: 'scones-data', s3_key: 'test/bicycle_s_000030.png', inferences: [] },
    });
  });

  it('reaches the stack\'s SageMaker Runtime with sagemaker-runtime and its alias runtime.sagemaker', async () => {
    const source = `import boto3, botocore

def lambda_handler(event, context):
    answers = {"botocore": botocore.__version__}
    for name in ["sagemaker-runtime", "runtime.sagemaker"]:
        client = boto3.client(name)
        try:
            client.invoke_endpoint(EndpointName="no-such-endpoint", ContentType="image/png", Body=b"x")
            answers[name] = ["no error", client.meta.endpoint_url]
        except Exception as error:
            answers[name] = [type(error).__name__, str(error), client.meta.endpoint_url]
    explicit = boto3.client("s3", endpoint_url="http://127.0.0.1:9")
    answers["explicit"] = explicit.meta.endpoint_url
    return answers
`;
    await h.create('classify', { 'lambda_function.py': source }, { Timeout: 30 });
    const answer = (await h.invoke('classify')).json as Record<string, unknown>;
    for (const name of ['sagemaker-runtime', 'runtime.sagemaker']) {
      // The stack's own answer (an endpoint it does not have), not a connection error or AWS's.
      expect(answer[name]).toEqual(['ValidationError', expect.stringContaining('no-such-endpoint'), h.stack.url]);
    }
    // An endpoint the code chose itself is kept.
    expect(answer.explicit).toBe('http://127.0.0.1:9');
    expect(answer.botocore).toMatch(python === '/usr/bin/python3' ? /^1\.(2\d|30)\./ : /^1\.(3[1-9]|[4-9]\d)\./);
  });
});
