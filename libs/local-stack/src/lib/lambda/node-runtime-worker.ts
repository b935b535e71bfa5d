// The Node.js runtime of the local stack: one Lambda execution environment per process, started
// as the stack worker kind `lambda-nodejs`. It follows aws-lambda-nodejs-runtime-interface-client
// (UserFunction.js, Errors): handler `file.export` (nested `dir/file.a.b` too) loaded as CommonJS or
// ES module by the same rules (.js with "type": "module", .mjs, .cjs), the same Runtime.* errors,
// `{errorType, errorMessage, trace}` error payloads, console lines `<time>\t<requestId>\t<LEVEL>\t…`
// (JSON with LogFormat JSON), async and callback handlers, and the context object.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { Socket } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { installPrivateTmp } from './node-private-tmp';
import { encodeFrame, FrameDecoder, type Frame } from './runtime-protocol';

type Handler = (event: unknown, context: LambdaContext, callback: (error?: unknown, result?: unknown) => void) => unknown;

interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  identity?: unknown;
  clientContext?: unknown;
  getRemainingTimeInMillis(): number;
  done(error?: unknown, result?: unknown): void;
  succeed(result?: unknown): void;
  fail(error?: unknown): void;
}

class RuntimeError extends Error {
  constructor(name: string, message: string, stack?: string) {
    super(message);
    this.name = name;
    if (stack !== undefined) this.stack = stack;
  }
}

const CALLBACK_REMOVED =
  'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.';

/** Worker main: serves invocations on fd 3 until the stack closes the channel. */
export async function lambdaNodeRuntimeMain(): Promise<number> {
  const channel = new Socket({ fd: 3, readable: true, writable: true });
  const send = (header: { t: string } & Record<string, unknown>, body?: Buffer | string) => channel.write(encodeFrame(header, body));
  const parent = process.ppid;
  // The stack died while user code keeps the event loop busy with timers: leave anyway.
  setInterval(() => {
    if (process.ppid !== parent) process.exit(70);
  }, 1000).unref();
  // The stack closed the channel (stopped this environment, or died): leave at once, whatever
  // timers, sockets or keep-alive agents the function's code still holds.
  const closed = new Promise<number>(() => channel.once('close', () => process.exit(0)));
  channel.on('error', () => process.exit(0));

  let requestId: string | undefined;
  installConsole((line) => send({ t: 'log' }, line), () => requestId);
  const started = performance.now();
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  process.chdir(taskRoot);
  if (process.env.SCONES_LAMBDA_TMP) installPrivateTmp(process.env.SCONES_LAMBDA_TMP);

  let handler: Handler;
  try {
    handler = await loadHandler(taskRoot, process.env._HANDLER ?? '');
    if (handler.length >= 3 && (process.env.AWS_EXECUTION_ENV ?? '') >= 'AWS_Lambda_nodejs24' && !isStreaming(handler)) {
      throw new RuntimeError('Runtime.CallbackHandlerDeprecated', CALLBACK_REMOVED);
    }
  } catch (error) {
    const response = toRuntimeResponse(error);
    logLine('ERROR', `Uncaught Exception \t${JSON.stringify({ errorType: response.errorType, errorMessage: response.errorMessage, stack: response.trace })}`, undefined, (line) => send({ t: 'log' }, line));
    send({ t: 'initError', initMs: performance.now() - started }, JSON.stringify(response));
    await new Promise<void>((done) => channel.end(() => done()));
    return 1;
  }
  send({ t: 'ready', initMs: performance.now() - started });

  // One invocation at a time, as in a Lambda execution environment.
  const failCurrent = (error: unknown, kind: 'uncaught' | 'rejection') => {
    const response =
      kind === 'rejection' && !(error instanceof Error)
        ? { errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: String(error), trace: [] as string[] }
        : toRuntimeResponse(error);
    logLine('ERROR', `${kind === 'uncaught' ? 'Uncaught Exception' : 'Unhandled Promise Rejection'} \t${JSON.stringify({ errorType: response.errorType, errorMessage: response.errorMessage, stack: response.trace })}`, requestId, (line) => send({ t: 'log' }, line));
    // As on AWS, the environment does not survive an uncaught error: report it, then exit.
    send({ t: 'error', memMb: memoryMb(), exit: true }, JSON.stringify(response));
    channel.end(() => process.exit(129));
  };
  process.on('uncaughtException', (error) => failCurrent(error, 'uncaught'));
  process.on('unhandledRejection', (reason) => failCurrent(reason, 'rejection'));

  const decoder = new FrameDecoder();
  const queue: Frame[] = [];
  let busy = false;
  const next = async () => {
    if (busy) return;
    busy = true;
    while (queue.length) {
      const frame = queue.shift() as Frame;
      if (frame.header.t !== 'invoke') continue;
      requestId = String(frame.header.id);
      const outcome = await invoke(handler, frame);
      requestId = undefined;
      if (outcome.error !== undefined) {
        const response = toRuntimeResponse(outcome.error);
        logLine('ERROR', `Invoke Error \t${JSON.stringify({ errorType: response.errorType, errorMessage: response.errorMessage, stack: response.trace })}`, String(frame.header.id), (line) => send({ t: 'log' }, line));
        send({ t: 'error', memMb: memoryMb() }, JSON.stringify(response));
      } else {
        send({ t: 'result', ct: 'application/json', memMb: memoryMb() }, outcome.payload);
      }
    }
    busy = false;
  };
  channel.on('data', (chunk: Buffer) => {
    queue.push(...decoder.push(chunk));
    void next();
  });
  return closed;
}

async function invoke(handler: Handler, frame: Frame): Promise<{ error?: unknown; payload?: string }> {
  let event: unknown;
  try {
    event = frame.body.length ? JSON.parse(frame.body.toString('utf8')) : {};
  } catch (error) {
    return { error: new RuntimeError('Runtime.UnmarshalError', `Unable to unmarshal input: ${(error as Error).message}`) };
  }
  const deadline = Number(frame.header.deadlineMs);
  const outcome = await new Promise<{ error?: unknown; result?: unknown }>((settled) => {
    let done = false;
    const settle = (error: unknown, result: unknown) => {
      if (done) return;
      done = true;
      settled(error !== undefined && error !== null ? { error } : { result });
    };
    const context: LambdaContext = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? '',
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
      invokedFunctionArn: String(frame.header.arn),
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
      awsRequestId: String(frame.header.id),
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
      clientContext: frame.header.clientContext ?? undefined,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: (error, result) => settle(error, result),
      succeed: (result) => settle(undefined, result),
      fail: (error) => settle(error ?? new Error('handled'), undefined),
    };
    const callback = (error?: unknown, result?: unknown) => settle(error, result);
    let returned: unknown;
    try {
      returned = handler(event, context, callback);
    } catch (error) {
      settle(error, undefined);
      return;
    }
    if (returned && typeof (returned as PromiseLike<unknown>).then === 'function') {
      (returned as PromiseLike<unknown>).then(
        (result) => settle(undefined, result),
        (error: unknown) => settle(error ?? new Error('Promise rejected with a falsy value'), undefined),
      );
    } else if (handler.length < 3) {
      // A synchronous handler that neither returns a promise nor takes a callback: Lambda answers
      // null once the event loop is empty; a warm worker's loop never is, so answer after this turn.
      setImmediate(() => settle(undefined, null));
    }
  });
  if (outcome.error !== undefined) return { error: outcome.error };
  try {
    return { payload: JSON.stringify(outcome.result === undefined ? null : outcome.result) };
  } catch {
    return { error: new RuntimeError('Runtime.JSONStringifyError', 'Unable to stringify response body') };
  }
}

function toRuntimeResponse(error: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  try {
    if (error instanceof Error || (error && typeof error === 'object' && typeof (error as Error).name === 'string' && typeof (error as Error).message === 'string' && typeof (error as Error).stack === 'string')) {
      const e = error as Error;
      return { errorType: e.name, errorMessage: e.message, trace: typeof e.stack === 'string' ? e.stack.split('\n') : [] };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return { errorType: 'handled', errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack', trace: [] };
  }
}

// ---- loading the handler (UserFunction.js) -------------------------------------------------------

async function loadHandler(appRoot: string, fullHandler: string): Promise<Handler> {
  if (fullHandler.includes('..')) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`);
  }
  const handlerString = basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = /^([^.]*)\.(.*)$/.exec(handlerString);
  if (!match) throw new RuntimeError('Runtime.MalformedHandlerName', 'Bad handler');
  const [, moduleName, handlerPath] = match;
  installAwsLambdaGlobal();
  let userApp: unknown;
  try {
    userApp = await tryRequire(appRoot, moduleRoot, moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) throw new RuntimeError('Runtime.UserCodeSyntaxError', String(error), error.stack);
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') throw new RuntimeError('Runtime.ImportModuleError', String(error));
    throw error;
  }
  const handler = handlerPath.split('.').reduce<unknown>((nested, key) => (nested ? (nested as Record<string, unknown>)[key] : undefined), userApp);
  if (!handler) throw new RuntimeError('Runtime.HandlerNotFound', `${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new RuntimeError('Runtime.HandlerNotFound', `${fullHandler} is not a function`);
  return handler as Handler;
}

async function tryRequire(appRoot: string, moduleRoot: string, moduleName: string): Promise<unknown> {
  const userRequire = createRequire(join(appRoot, 'index.js'));
  const lambdaStylePath = resolve(appRoot, moduleRoot, moduleName);
  const requireFile = (extension = '') => (existsSync(lambdaStylePath + extension) ? userRequire(lambdaStylePath + extension) : undefined);
  const importFile = async (extension: string) => {
    if (!existsSync(lambdaStylePath + extension)) return undefined;
    provideRuntimeModulesToEsm();
    return await import(pathToFileURL(lambdaStylePath + extension).href);
  };

  const extensionless = requireFile();
  if (extensionless) return extensionless;
  const typeModule = hasPackageJsonTypeModule(dirname(lambdaStylePath), appRoot);
  if (!typeModule) {
    const loaded = requireFile('.js');
    if (loaded) return loaded;
  }
  const loaded = (typeModule && (await importFile('.js'))) || (await importFile('.mjs')) || requireFile('.cjs');
  if (loaded) return loaded;
  return userRequire(userRequire.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

/** As the runtime decides, but looking no higher than the task root (on Lambda, /var/task's parents hold no package.json). */
let esmHookInstalled = false;

/**
 * ES modules ignore NODE_PATH, yet on Lambda `import … from '@aws-sdk/client-s3'` finds the SDK
 * the runtime provides: a resolve hook retries a bare specifier that is not found from the
 * directory that holds the stack's runtime modules (NODE_PATH).
 */
function provideRuntimeModulesToEsm(): void {
  const runtimeModules = process.env.NODE_PATH?.split(':').find(Boolean);
  if (esmHookInstalled || !runtimeModules || typeof register !== 'function') return;
  esmHookInstalled = true;
  const parentURL = pathToFileURL(join(runtimeModules, '..', 'lambda-runtime.mjs')).href;
  const hook = `export async function resolve(specifier, context, next) {
  try { return await next(specifier, context); } catch (error) {
    if (error && error.code === 'ERR_MODULE_NOT_FOUND' && !/^(\\.|\\/|[a-z]+:)/.test(specifier)) {
      try { return await next(specifier, { ...context, parentURL: ${JSON.stringify(parentURL)} }); } catch { /* report the first error */ }
    }
    throw error;
  }
}`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}

function hasPackageJsonTypeModule(folder: string, appRoot: string): boolean {
  for (let dir = folder; ; dir = dirname(dir)) {
    if (dir.endsWith('/node_modules')) return false;
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as { type?: string } | null)?.type === 'module';
      } catch (error) {
        console.warn(`${file} cannot be read, it will be ignored for ES module detection purposes.`, error);
        return false;
      }
    }
    if (dir === appRoot || dirname(dir) === dir) return false;
  }
}

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');

function isStreaming(handler: Handler): boolean {
  return Boolean((handler as unknown as Record<symbol, unknown>)[STREAMING]);
}

/** `awslambda.streamifyResponse` exists on Lambda; code that references it at load must load here. */
function installAwsLambdaGlobal(): void {
  (globalThis as Record<string, unknown>).awslambda ??= {
    streamifyResponse: (handler: Handler) => {
      const streaming = (...args: Parameters<Handler>) => {
        void args;
        throw new RuntimeError('Runtime.InvalidStreamingOperation', 'the local stack does not support response streaming (awslambda.streamifyResponse); return the whole response instead');
      };
      (streaming as unknown as Record<symbol, unknown>)[STREAMING] = 'response';
      void handler;
      return streaming;
    },
  };
}

// ---- logs ----------------------------------------------------------------------------------------

const LEVELS: Record<string, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, FATAL: 5 };

function logLine(level: string, message: string, requestId: string | undefined, write: (line: string) => void): void {
  const json = process.env.AWS_LAMBDA_LOG_FORMAT === 'JSON';
  if (json) {
    const threshold = LEVELS[process.env.AWS_LAMBDA_LOG_LEVEL ?? 'TRACE'] ?? 0;
    if ((LEVELS[level] ?? 2) < threshold) return;
    write(`${JSON.stringify({ timestamp: new Date().toISOString(), level, requestId, message })}\n`);
    return;
  }
  // Lambda keeps a multi-line message in one log event: newlines become carriage returns.
  write(`${new Date().toISOString()}\t${requestId}\t${level}\t${message.replace(/\n/g, '\r')}\n`);
}

function installConsole(write: (line: string) => void, requestId: () => string | undefined): void {
  const methods: Array<[keyof Console, string]> = [
    ['log', 'INFO'],
    ['info', 'INFO'],
    ['warn', 'WARN'],
    ['error', 'ERROR'],
    ['debug', 'DEBUG'],
    ['trace', 'TRACE'],
  ];
  for (const [method, level] of methods) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => logLine(level, format(...args), requestId(), write);
  }
  (console as unknown as Record<string, unknown>).fatal = (...args: unknown[]) => logLine('FATAL', format(...args), requestId(), write);
}

function memoryMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
