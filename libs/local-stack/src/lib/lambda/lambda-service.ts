import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { LocalStackError } from '@scones/stack-core';
import { AwsError } from '@scones/stack-core';
import type { RequestContext } from '@scones/stack-core';
import type { LogsService } from '../logs/logs-service';
import type { S3Service } from '@scones/stack-core';
import { parseJsonInput } from '@scones/stack-core';
import { readBody } from '@scones/stack-core';
import type { StackContext, StackService } from '@scones/stack-core';
import { writeFileAtomic } from '@scones/stack-core';
import { JsonStore } from '@scones/stack-core';
import { workspaceRoot } from '../workers';
import { CodeStore, type StoredCode } from './code-store';
import { DEFAULTS, lambdaTimestamp, parseConfiguration, parseTags, renderConfiguration, settleLogging, type ConfigurationChange, type FunctionRecord, type StateOverride } from './function-config';
import { functionArn, LATEST, parseFunctionReference } from './function-name';
import { FunctionRunner, type InvocationOutcome } from './function-runner';
import { PYTHON_BOOTSTRAP_SOURCE } from './python-bootstrap';
import { ZipArchiveError, ZIP_LIMITS } from './zip-archive';

const run = promisify(execFile);

/** Lambda's request limits: a synchronous payload of 6 MB, an asynchronous one of 1 MB. */
export const INVOKE_LIMITS = { requestResponseBytes: 6 * 1024 * 1024, eventBytes: 1024 * 1024 } as const;
/** CreateFunction / UpdateFunctionCode with a base64 ZipFile of at most 50 MB. */
const CODE_REQUEST_LIMIT_BYTES = 69_905_067;
const CONFIG_REQUEST_LIMIT_BYTES = 1024 * 1024;
const LIST_DEFAULT = 50;

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

export interface LambdaInvokeOptions {
  /** Default RequestResponse. */
  invocationType?: InvocationType;
  /** `$LATEST` (the only version the stack runs) or nothing. */
  qualifier?: string;
  /** `Tail`: answer the last 4 KB of the invocation's log in `logResult`. */
  logType?: 'None' | 'Tail';
  /** X-Amz-Client-Context: base64 of a JSON object, given to the handler as context.client_context. */
  clientContext?: string;
  /** The region of the caller (ARNs the function sees); default the stack's. */
  region?: string;
  /** The invocation's request id (the function's awsRequestId); default a new UUID. */
  requestId?: string;
}

/** What an invocation answers, exactly as the HTTP Invoke does (status 200 even when the function failed). */
export interface LambdaInvokeResult {
  /** 200 RequestResponse, 202 Event, 204 DryRun. */
  statusCode: number;
  payload: Buffer;
  /** `Unhandled` when the function failed; the payload is then its error document. */
  functionError?: 'Unhandled';
  /** `$LATEST` for RequestResponse. */
  executedVersion?: string;
  /** Base64 of the log's last 4 KB, with `logType: 'Tail'`. */
  logResult?: string;
  requestId: string;
}

/** The Lambda service of the stack, with the in-process invoke Step Functions uses. */
export interface LambdaService extends StackService {
  readonly id: 'lambda';
  /**
   * Invokes a function by name, `name:qualifier`, partial or full ARN (any account and region:
   * they all name the stack's function of that name). Service errors (ResourceNotFoundException,
   * RequestTooLargeException…) are thrown as AwsError, as the HTTP API answers them.
   */
  invoke(functionNameOrArn: string, payload: Buffer | Uint8Array | string, options?: LambdaInvokeOptions): Promise<LambdaInvokeResult>;
}

export interface LambdaServiceOptions {
  /** Execution environments per function; default `SCONES_LAMBDA_MAX_ENVIRONMENTS` or max(2, CPUs). */
  maxEnvironmentsPerFunction?: number;
  /** An environment idle this long is stopped; default `SCONES_LAMBDA_IDLE_SECONDS` or 300 s. */
  idleMs?: number;
  /** The interpreter for python3.x functions; default `SCONES_LAMBDA_PYTHON` or `python3`. */
  python?: string;
}

/**
 * AWS Lambda (restJson1, `/2015-03-31/functions…`): CreateFunction from a .zip (ZipFile or the
 * stack's S3), UpdateFunctionCode, UpdateFunctionConfiguration, GetFunction (with a Code.Location
 * the stack serves), GetFunctionConfiguration, ListFunctions, DeleteFunction and Invoke, with
 * Node.js and Python runtimes in warm worker processes. State: `<dataDir>/lambda/` (functions/,
 * code/, runtime/), so functions survive down/up.
 */
export function createLambdaService(stack: StackContext, options: LambdaServiceOptions = {}): LambdaService {
  const root = join(stack.dataDir, 'lambda');
  const store = new JsonStore<FunctionRecord>(join(root, 'functions'));
  const code = new CodeStore(join(root, 'code'));
  const bootstrap = join(root, 'runtime', 'python', 'bootstrap.py');
  // Each execution environment's private /tmp, under <dataDir>/lambda/tmp/ (emptied at start).
  const scratch = join(root, 'tmp');
  const functions = new Map<string, FunctionRecord>();
  let python: Promise<string> | undefined;
  const pythonCommand = () =>
    (python ??= (async () => {
      const configured = options.python ?? process.env.SCONES_LAMBDA_PYTHON ?? 'python3';
      try {
        // pyenv and similar put a shell script first on PATH: start the interpreter itself.
        const { stdout } = await run(configured, ['-c', 'import sys; print(sys.executable)'], { timeout: 30_000 });
        return stdout.trim() || configured;
      } catch {
        return configured;
      }
    })());
  const runner = new FunctionRunner({
    maxEnvironmentsPerFunction: options.maxEnvironmentsPerFunction ?? positiveSetting('SCONES_LAMBDA_MAX_ENVIRONMENTS', Math.max(2, availableParallelism()), true),
    idleMs: options.idleMs ?? positiveSetting('SCONES_LAMBDA_IDLE_SECONDS', 300, false) * 1000,
    python: pythonCommand,
    workerCommand: stack.workerCommand,
    pythonBootstrap: bootstrap,
    scratchDirectory: scratch,
    stackDataDirectory: resolve(stack.dataDir),
    sdkEnvironment: () => stack.sdkEnvironment(),
    nodeModules: join(workspaceRoot(), 'node_modules'),
    logger: stack.logger,
  });

  // Create, update and delete one at a time: code packages are shared by content, and removing
  // the unused ones must see every function.
  let mutations: Promise<unknown> = Promise.resolve();
  const mutate = <T>(work: () => Promise<T>): Promise<T> => {
    const next = mutations.then(work, work);
    mutations = next.catch(() => undefined);
    return next;
  };

  const notFound = (region: string, name: string, qualifier?: string) => new AwsError('ResourceNotFoundException', `Function not found: ${functionArn(region, stack.accountId, name, qualifier)}`, 404);
  const lookup = (reference: string, region: string, qualifier?: string): FunctionRecord => {
    const target = parseFunctionReference(reference, qualifier);
    const record = functions.get(target.name);
    if (!record || (target.qualifier !== undefined && target.qualifier !== LATEST)) throw notFound(region, target.name, target.qualifier);
    return record;
  };
  const saveRecord = async (record: FunctionRecord) => {
    await store.put(record.name, record);
    functions.set(record.name, record);
  };
  const collectCode = async () => {
    const inUse = runner.codeInUse();
    for (const record of functions.values()) inUse.add(record.codeSha256);
    await code.collect(inUse);
  };

  async function fetchCode(input: Record<string, unknown>, operation: string): Promise<StoredCode> {
    const zipFile = input.ZipFile;
    const hasS3 = input.S3Bucket !== undefined || input.S3Key !== undefined;
    if (input.ImageUri !== undefined) throw new AwsError('InvalidParameterValueException', `${operation}: ImageUri: the local stack runs .zip packages only, not container images`, 400);
    if (zipFile !== undefined && hasS3) throw new AwsError('InvalidParameterValueException', `${operation}: give the code either as ZipFile or as S3Bucket and S3Key, not both`, 400);
    let zip: Buffer;
    if (zipFile !== undefined) {
      if (typeof zipFile !== 'string' || !/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(zipFile)) throw new AwsError('InvalidParameterValueException', `${operation}: ZipFile must be the base64 of a .zip file`, 400);
      zip = Buffer.from(zipFile, 'base64');
    } else if (hasS3) {
      zip = await readS3Code(input);
    } else {
      throw new AwsError('InvalidParameterValueException', `${operation}: Code: give ZipFile (a base64 .zip) or S3Bucket and S3Key`, 400);
    }
    if (zip.length > ZIP_LIMITS.zippedBytes && zipFile !== undefined) {
      throw new AwsError('RequestEntityTooLargeException', `Zipped size must be smaller than ${ZIP_LIMITS.zippedBytes} bytes`, 413);
    }
    try {
      return await code.put(zip);
    } catch (error) {
      if (error instanceof ZipArchiveError) {
        const detail = /not a (complete )?\.zip/.test(error.message) ? `Could not unzip uploaded file. Please check your file, then try to upload again. (${error.message})` : `Could not unzip uploaded file: ${error.message}`;
        throw new AwsError('InvalidParameterValueException', `${operation}: ${detail}`, 400);
      }
      throw error;
    }
  }

  async function readS3Code(input: Record<string, unknown>): Promise<Buffer> {
    const bucket = input.S3Bucket;
    const key = input.S3Key;
    if (typeof bucket !== 'string' || bucket === '' || typeof key !== 'string' || key === '') {
      throw new AwsError('InvalidParameterValueException', 'Code: S3Bucket and S3Key must both be given (the bucket and key of the .zip in the stack\'s S3)', 400);
    }
    if (input.S3ObjectVersion !== undefined) throw new AwsError('InvalidParameterValueException', 'Code.S3ObjectVersion: the stack\'s S3 keeps no object versions; give S3Bucket and S3Key only', 400);
    const s3 = stack.service<S3Service>('s3');
    if (!s3) throw new AwsError('InvalidParameterValueException', `Code.S3Bucket: this stack does not run S3, so s3://${bucket}/${key} cannot be read; start it with the s3 service or send ZipFile`, 400);
    try {
      const info = await s3.headObject(bucket, key);
      if (info && info.size > ZIP_LIMITS.unzippedBytes) throw new AwsError('InvalidParameterValueException', `Unzipped size must be smaller than ${ZIP_LIMITS.unzippedBytes} bytes (s3://${bucket}/${key} is ${info.size} bytes)`, 400);
      return (await s3.getObject(bucket, key)).body;
    } catch (error) {
      if (error instanceof AwsError && error.code === 'InvalidParameterValueException') throw error;
      const code = error instanceof AwsError ? error.code : 'InternalError';
      throw new AwsError('InvalidParameterValueException', `Error occurred while GetObject. S3 Error Code: ${code}. S3 Error Message: ${(error as Error).message} (s3://${bucket}/${key})`, 400);
    }
  }

  function checkRevision(record: FunctionRecord, input: Record<string, unknown>): void {
    if (input.RevisionId !== undefined && input.RevisionId !== record.revisionId) {
      throw new AwsError('PreconditionFailedException', 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id', 412);
    }
  }

  // ---- operations -------------------------------------------------------------------------------

  async function createFunction(input: Record<string, unknown>, region: string): Promise<Record<string, unknown>> {
    if (typeof input.FunctionName !== 'string') throw new AwsError('ValidationException', "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null", 400);
    const { name } = parseFunctionReference(input.FunctionName);
    const change = parseConfiguration(input, true);
    const tags = parseTags(input.Tags);
    const codeInput = input.Code;
    if (!codeInput || typeof codeInput !== 'object') throw new AwsError('ValidationException', "1 validation error detected: Value null at 'code' failed to satisfy constraint: Member must not be null", 400);
    return mutate(async () => {
      if (functions.has(name)) throw new AwsError('ResourceConflictException', `Function already exist: ${name}`, 409);
      const stored = await fetchCode(codeInput as Record<string, unknown>, 'CreateFunction');
      const record: FunctionRecord = {
        name,
        runtime: change.runtime as string,
        role: change.role as string,
        handler: change.handler as string,
        description: change.description ?? '',
        timeout: change.timeout ?? DEFAULTS.timeout,
        memorySize: change.memorySize ?? DEFAULTS.memorySize,
        ...(change.environment ? { environment: change.environment } : {}),
        tags,
        architectures: change.architectures ?? ['x86_64'],
        tracingMode: change.tracingMode ?? 'PassThrough',
        ephemeralStorage: change.ephemeralStorage ?? DEFAULTS.ephemeralStorage,
        ...(change.kmsKeyArn ? { kmsKeyArn: change.kmsKeyArn } : {}),
        logFormat: change.logFormat ?? 'Text',
        logGroup: change.logGroup ?? `/aws/lambda/${name}`,
        ...(change.applicationLogLevel ? { applicationLogLevel: change.applicationLogLevel } : {}),
        ...(change.systemLogLevel ? { systemLogLevel: change.systemLogLevel } : {}),
        codeSha256: stored.sha256,
        codeSize: stored.size,
        lastModified: lambdaTimestamp(),
        revisionId: randomUUID(),
      };
      settleLogging(record, change);
      await saveRecord(record);
      stack.logger.info('lambda function created', { function: name, runtime: record.runtime, handler: record.handler, codeSize: record.codeSize });
      // The package is extracted and checked before this answer, so the function is ready; the
      // answer still says Pending, as Lambda's does, and GetFunction says Active.
      return renderConfiguration(record, region, stack.accountId, 'full', { State: 'Pending', StateReason: 'The function is being created.', StateReasonCode: 'Creating' });
    });
  }

  const UPDATING: StateOverride = { LastUpdateStatus: 'InProgress', LastUpdateStatusReason: 'The function is being created.' };

  async function updateFunctionCode(reference: string, input: Record<string, unknown>, region: string): Promise<Record<string, unknown>> {
    parseFunctionReference(reference);
    if (input.Publish === true) throw new AwsError('InvalidParameterValueException', 'Publish: the local stack runs only $LATEST and does not publish versions', 400);
    if (input.PublishTo !== undefined) throw new AwsError('InvalidParameterValueException', 'PublishTo: the local stack does not publish versions', 400);
    const change = input.Architectures !== undefined ? parseConfiguration({ Architectures: input.Architectures }, false) : {};
    return mutate(async () => {
      const current = lookup(reference, region);
      checkRevision(current, input);
      const stored = await fetchCode(input, 'UpdateFunctionCode');
      const updated: FunctionRecord = { ...current, ...(change.architectures ? { architectures: change.architectures } : {}), codeSha256: stored.sha256, codeSize: stored.size, lastModified: lambdaTimestamp(), revisionId: randomUUID() };
      if (input.DryRun === true) {
        await collectCode();
        return renderConfiguration({ ...updated, revisionId: current.revisionId }, region, stack.accountId, 'full');
      }
      await saveRecord(updated);
      runner.retire(updated.name);
      await collectCode();
      stack.logger.info('lambda function code updated', { function: updated.name, codeSize: updated.codeSize });
      return renderConfiguration(updated, region, stack.accountId, 'full', UPDATING);
    });
  }

  async function updateFunctionConfiguration(reference: string, input: Record<string, unknown>, region: string): Promise<Record<string, unknown>> {
    parseFunctionReference(reference);
    const change: ConfigurationChange = parseConfiguration(input, false);
    return mutate(async () => {
      const current = lookup(reference, region);
      checkRevision(current, input);
      const updated: FunctionRecord = { ...current, ...change, lastModified: lambdaTimestamp(), revisionId: randomUUID() };
      if (input.Environment !== undefined && input.Environment !== null && Object.keys(change.environment ?? {}).length === 0) delete updated.environment;
      settleLogging(updated, change);
      await saveRecord(updated);
      runner.retire(updated.name);
      stack.logger.info('lambda function configuration updated', { function: updated.name });
      return renderConfiguration(updated, region, stack.accountId, 'full', UPDATING);
    });
  }

  async function deleteFunction(reference: string, qualifier: string | undefined, region: string): Promise<void> {
    const target = parseFunctionReference(reference, qualifier);
    if (target.qualifier !== undefined && target.qualifier !== LATEST) throw notFound(region, target.name, target.qualifier);
    if (target.qualifier === LATEST) throw new AwsError('InvalidParameterValueException', '$LATEST version cannot be deleted without deleting the function.', 400);
    await mutate(async () => {
      lookup(reference, region);
      await store.delete(target.name);
      functions.delete(target.name);
      runner.retire(target.name);
      await collectCode();
      stack.logger.info('lambda function deleted', { function: target.name });
    });
  }

  function getFunction(reference: string, qualifier: string | undefined, region: string): Record<string, unknown> {
    const record = lookup(reference, region, qualifier);
    const answer: Record<string, unknown> = {
      Configuration: renderConfiguration(record, region, stack.accountId, 'full'),
      Code: { RepositoryType: 'S3', Location: `${stack.url}/2015-03-31/functions/${encodeURIComponent(record.name)}/code-archive/${record.codeSha256}.zip` },
    };
    if (Object.keys(record.tags).length) answer.Tags = { ...record.tags };
    return answer;
  }

  function listFunctions(query: URLSearchParams, region: string): Record<string, unknown> {
    const maxItems = query.get('MaxItems');
    let limit = LIST_DEFAULT;
    if (maxItems !== null) {
      limit = Number(maxItems);
      if (!/^\d+$/.test(maxItems) || limit < 1 || limit > 10_000) throw new AwsError('ValidationException', `1 validation error detected: Value '${maxItems}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000`, 400);
    }
    const version = query.get('FunctionVersion');
    if (version !== null && version !== 'ALL') throw new AwsError('ValidationException', `1 validation error detected: Value '${version}' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]`, 400);
    // Lambda@Edge replicas live in other regions; the stack has none.
    if (query.get('MasterRegion') !== null) return { Functions: [] };
    const names = [...functions.keys()].sort();
    const marker = query.get('Marker');
    let start = 0;
    if (marker !== null) {
      const after = decodeMarker(marker);
      start = names.findIndex((n) => n > after);
      if (start < 0) start = names.length;
    }
    const page = names.slice(start, start + limit);
    const answer: Record<string, unknown> = { Functions: page.map((n) => renderConfiguration(functions.get(n) as FunctionRecord, region, stack.accountId, 'list')) };
    if (start + limit < names.length) answer.NextMarker = Buffer.from(JSON.stringify({ after: page[page.length - 1] })).toString('base64url');
    return answer;
  }

  function decodeMarker(marker: string): string {
    try {
      const value = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as { after?: unknown };
      if (typeof value.after === 'string') return value.after;
    } catch {
      /* fall through */
    }
    throw new AwsError('InvalidParameterValueException', `Invalid pagination token: ${marker}`, 400);
  }

  async function invoke(reference: string, payloadInput: Buffer | Uint8Array | string, invokeOptions: LambdaInvokeOptions = {}): Promise<LambdaInvokeResult> {
    const region = invokeOptions.region ?? stack.region;
    const requestId = invokeOptions.requestId ?? randomUUID();
    const invocationType = invokeOptions.invocationType ?? 'RequestResponse';
    if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
      throw new AwsError('ValidationException', `1 validation error detected: Value '${invocationType}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`, 400);
    }
    const logType = invokeOptions.logType ?? 'None';
    if (logType !== 'None' && logType !== 'Tail') throw new AwsError('ValidationException', `1 validation error detected: Value '${logType}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]`, 400);
    const payload = typeof payloadInput === 'string' ? Buffer.from(payloadInput, 'utf8') : Buffer.isBuffer(payloadInput) ? payloadInput : Buffer.from(payloadInput.buffer, payloadInput.byteOffset, payloadInput.byteLength);
    const limit = invocationType === 'Event' ? INVOKE_LIMITS.eventBytes : INVOKE_LIMITS.requestResponseBytes;
    if (payload.length > limit) throw new AwsError('RequestTooLargeException', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`, 413);
    const target = parseFunctionReference(reference, invokeOptions.qualifier);
    const record = lookup(reference, region, invokeOptions.qualifier);
    const event = payload.length === 0 ? Buffer.from('{}') : payload;
    if (payload.length) {
      try {
        JSON.parse(payload.toString('utf8'));
      } catch (error) {
        throw new AwsError('InvalidRequestContentException', `Could not parse request body into json: Could not parse payload into json: ${(error as Error).message}`, 400);
      }
    }
    const clientContext = parseClientContext(invokeOptions.clientContext);
    const invokedArn = functionArn(region, stack.accountId, record.name, target.qualifier);
    if (invocationType === 'DryRun') return { statusCode: 204, payload: Buffer.alloc(0), requestId };
    const execute = () => runner.run(record, code.root(record.codeSha256), { requestId, payload: event, invokedArn, clientContext }).then((outcome) => shipLogs(record, outcome));
    if (invocationType === 'Event') {
      execute().catch((error: unknown) => stack.logger.error('asynchronous lambda invocation failed', { function: record.name, requestId, error }));
      return { statusCode: 202, payload: Buffer.alloc(0), requestId };
    }
    const outcome = await execute();
    return {
      statusCode: 200,
      payload: outcome.payload,
      ...(outcome.functionError ? { functionError: outcome.functionError } : {}),
      executedVersion: LATEST,
      ...(logType === 'Tail' ? { logResult: outcome.log.tail() } : {}),
      requestId,
    };
  }

  function shipLogs(record: FunctionRecord, outcome: InvocationOutcome): InvocationOutcome {
    const logs = stack.service<LogsService>('logs');
    try {
      logs?.append?.(record.logGroup, outcome.logStreamName, outcome.log.events());
    } catch (error) {
      stack.logger.warn('could not write lambda logs', { function: record.name, error });
    }
    if (outcome.functionError) stack.logger.debug('lambda function error', { function: record.name, requestId: outcome.log.requestId, errorType: outcome.errorType });
    return outcome;
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  const json = (res: ServerResponse, ctx: RequestContext, status: number, body?: unknown) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = { 'x-amzn-requestid': ctx.requestId, 'content-length': String(Buffer.byteLength(text)) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    res.writeHead(status, headers).end(text);
  };

  async function handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
    const method = req.method ?? 'GET';
    const segments = pathSegments(ctx.url.pathname);
    const query = ctx.url.searchParams;
    const region = ctx.region;
    const qualifier = query.get('Qualifier') ?? undefined;
    if (segments[0] === '2015-03-31' && segments[1] === 'functions') {
      const [, , name, sub, ...rest] = segments;
      if (name === undefined || name === '') {
        if (method === 'POST') return json(res, ctx, 201, await createFunction(parseJsonInput(await readCodeBody(req, 'CreateFunction'), 'CreateFunction'), region));
        if (method === 'GET') return json(res, ctx, 200, listFunctions(query, region));
      } else if (sub === undefined) {
        if (method === 'GET') return json(res, ctx, 200, getFunction(name, qualifier, region));
        if (method === 'DELETE') {
          await deleteFunction(name, qualifier, region);
          return json(res, ctx, 204);
        }
      } else if (rest.length === 0 && sub === 'configuration') {
        if (method === 'GET') return json(res, ctx, 200, renderConfiguration(lookup(name, region, qualifier), region, stack.accountId, 'full'));
        if (method === 'PUT') return json(res, ctx, 200, await updateFunctionConfiguration(name, parseJsonInput(await readBody(req, CONFIG_REQUEST_LIMIT_BYTES), 'UpdateFunctionConfiguration'), region));
      } else if (rest.length === 0 && sub === 'code' && method === 'PUT') {
        return json(res, ctx, 200, await updateFunctionCode(name, parseJsonInput(await readCodeBody(req, 'UpdateFunctionCode'), 'UpdateFunctionCode'), region));
      } else if (rest.length === 0 && sub === 'invocations' && method === 'POST') {
        return httpInvoke(req, res, ctx, name, qualifier);
      } else if (sub === 'code-archive' && rest.length === 1 && method === 'GET') {
        return downloadCode(res, ctx, name, rest[0]);
      }
    }
    throw new AwsError(
      'UnknownOperationException',
      `Lambda: the local stack does not support ${method} ${ctx.url.pathname}; it serves CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration, GetFunction, GetFunctionConfiguration, ListFunctions, DeleteFunction and Invoke`,
      400,
    );
  }

  async function readCodeBody(req: IncomingMessage, operation: string): Promise<Buffer> {
    try {
      return await readBody(req, CODE_REQUEST_LIMIT_BYTES);
    } catch (error) {
      if (error instanceof AwsError && error.code === 'RequestEntityTooLarge') {
        throw new AwsError('RequestEntityTooLargeException', `Request must be smaller than ${CODE_REQUEST_LIMIT_BYTES} bytes for the ${operation} operation`, 413);
      }
      throw error;
    }
  }

  async function httpInvoke(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, name: string, qualifier: string | undefined): Promise<void> {
    const header = (key: string) => {
      const value = req.headers[key];
      return typeof value === 'string' ? value : undefined;
    };
    const invocationType = (header('x-amz-invocation-type') ?? 'RequestResponse') as InvocationType;
    let payload: Buffer;
    try {
      payload = await readBody(req, invocationType === 'Event' ? INVOKE_LIMITS.eventBytes : INVOKE_LIMITS.requestResponseBytes);
    } catch (error) {
      if (error instanceof AwsError && error.code === 'RequestEntityTooLarge') {
        const limit = invocationType === 'Event' ? INVOKE_LIMITS.eventBytes : INVOKE_LIMITS.requestResponseBytes;
        throw new AwsError('RequestTooLargeException', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`, 413);
      }
      throw error;
    }
    const result = await invoke(name, payload, {
      invocationType,
      qualifier,
      logType: (header('x-amz-log-type') ?? 'None') as 'None' | 'Tail',
      clientContext: header('x-amz-client-context'),
      region: ctx.region,
      requestId: ctx.requestId,
    });
    const headers: Record<string, string> = { 'x-amzn-requestid': ctx.requestId, 'content-length': String(result.payload.length) };
    if (result.statusCode === 200) headers['content-type'] = 'application/json';
    if (result.functionError) headers['x-amz-function-error'] = result.functionError;
    if (result.executedVersion) headers['x-amz-executed-version'] = result.executedVersion;
    if (result.logResult !== undefined) headers['x-amz-log-result'] = result.logResult;
    res.writeHead(result.statusCode, headers).end(result.payload);
  }

  async function downloadCode(res: ServerResponse, ctx: RequestContext, name: string, file: string): Promise<void> {
    const sha = /^([0-9a-f]{64})\.zip$/.exec(file)?.[1];
    const record = functions.get(name);
    const zip = sha && record && record.codeSha256 === sha ? await code.readZip(sha) : undefined;
    if (!zip) throw new AwsError('ResourceNotFoundException', `no code package ${file} for function ${name} (GetFunction gives the current Code.Location)`, 404);
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(zip.length), 'x-amzn-requestid': ctx.requestId }).end(zip);
  }

  return {
    id: 'lambda',
    handle,
    invoke,
    async start() {
      await writeFileAtomic(bootstrap, PYTHON_BOOTSTRAP_SOURCE);
      // What environments of a stack that was killed left in their /tmp.
      await rm(scratch, { recursive: true, force: true });
      for (const { name, value } of await store.list()) functions.set(name, value);
      const inUse = new Set([...functions.values()].map((r) => r.codeSha256));
      await code.collect(inUse, true);
      // Resolve the interpreter now, off the first invocation's path.
      if ([...functions.values()].some((r) => r.runtime.startsWith('python'))) void pythonCommand();
    },
    async close() {
      await mutations;
      await runner.close();
    },
    async status() {
      return { functions: functions.size, ...runner.status() };
    },
  };
}

/** A positive number from the environment, or `fallback` when unset; anything else stops the stack with a clear error. */
function positiveSetting(name: string, fallback: number, integer: boolean): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new LocalStackError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function pathSegments(pathname: string): string[] {
  const parts = pathname.split('/').slice(1);
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  try {
    return parts.map((p) => decodeURIComponent(p));
  } catch {
    throw new AwsError('InvalidRequestContentException', `the path ${pathname} is not valid percent-encoding`, 400);
  }
}

function parseClientContext(value: string | undefined): unknown {
  if (value === undefined || value === '') return undefined;
  if (value.length > 3583) throw new AwsError('InvalidParameterValueException', 'Client context must be smaller than 3583 bytes', 400);
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch {
    /* fall through */
  }
  throw new AwsError('InvalidRequestContentException', 'Client context must be a base64-encoded JSON object', 400);
}
