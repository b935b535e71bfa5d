import { AwsError } from '@scones/stack-core';
import { functionArn, LATEST } from './function-name';

/** The runtimes the stack runs, and with what. */
export type RuntimeFamily = 'python' | 'nodejs';

const NODE_RUNTIMES = ['nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'nodejs24.x'] as const;
const PYTHON_RUNTIMES = ['python3.8', 'python3.9', 'python3.10', 'python3.11', 'python3.12', 'python3.13', 'python3.14'] as const;
export const SUPPORTED_RUNTIMES: readonly string[] = [...NODE_RUNTIMES, ...PYTHON_RUNTIMES];

/** Lambda's Runtime enum (botocore lambda 2015-03-31): other values fail its validation. */
const KNOWN_RUNTIMES = [
  'nodejs', 'nodejs4.3', 'nodejs6.10', 'nodejs8.10', 'nodejs10.x', 'nodejs12.x', 'nodejs14.x', 'nodejs16.x', 'java8', 'java8.al2', 'java11', 'python2.7', 'python3.6', 'python3.7',
  'python3.8', 'python3.9', 'dotnetcore1.0', 'dotnetcore2.0', 'dotnetcore2.1', 'dotnetcore3.1', 'dotnet6', 'dotnet8', 'nodejs4.3-edge', 'go1.x', 'ruby2.5', 'ruby2.7', 'provided',
  'provided.al2', 'nodejs18.x', 'python3.10', 'java17', 'ruby3.2', 'ruby3.3', 'ruby3.4', 'python3.11', 'nodejs20.x', 'provided.al2023', 'python3.12', 'java21', 'python3.13',
  'nodejs22.x', 'nodejs24.x', 'python3.14', 'java25', 'dotnet10', 'ruby4.0',
];
/** Runtimes Lambda no longer lets anyone create or update a function with, and what it recommends. */
const RETIRED_RUNTIMES: Record<string, string> = {
  nodejs: 'nodejs22.x', 'nodejs4.3': 'nodejs22.x', 'nodejs4.3-edge': 'nodejs22.x', 'nodejs6.10': 'nodejs22.x', 'nodejs8.10': 'nodejs22.x', 'nodejs10.x': 'nodejs22.x',
  'nodejs12.x': 'nodejs22.x', 'nodejs14.x': 'nodejs22.x', 'nodejs16.x': 'nodejs22.x', 'python2.7': 'python3.13', 'python3.6': 'python3.13', 'python3.7': 'python3.13',
};

export function runtimeFamily(runtime: string): RuntimeFamily {
  return runtime.startsWith('python') ? 'python' : 'nodejs';
}

/** Environment variable names Lambda sets itself and refuses in a function's configuration. */
const RESERVED_VARIABLES = [
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
];

export const LIMITS = {
  timeoutMax: 900,
  memoryMin: 128,
  memoryMax: 10240,
  environmentBytes: 4096,
  descriptionMax: 256,
  handlerMax: 128,
  ephemeralMin: 512,
  ephemeralMax: 10240,
} as const;

export const DEFAULTS = { timeout: 3, memorySize: 128, ephemeralStorage: 512 } as const;

/** A function as the stack keeps it (`<dataDir>/lambda/functions/<name>.json`). */
export interface FunctionRecord {
  name: string;
  runtime: string;
  role: string;
  handler: string;
  description: string;
  timeout: number;
  memorySize: number;
  environment?: Record<string, string>;
  tags: Record<string, string>;
  architectures: string[];
  tracingMode: string;
  ephemeralStorage: number;
  kmsKeyArn?: string;
  logFormat: 'Text' | 'JSON';
  logGroup: string;
  applicationLogLevel?: string;
  systemLogLevel?: string;
  /** SHA-256 of the .zip, hex (file names) — CodeSha256 is its base64. */
  codeSha256: string;
  codeSize: number;
  /** When the stack last changed it, ISO 8601. */
  lastModified: string;
  revisionId: string;
}

/** The configuration members of CreateFunction / UpdateFunctionConfiguration, validated. */
export type ConfigurationChange = Partial<Omit<FunctionRecord, 'name' | 'codeSha256' | 'codeSize' | 'lastModified' | 'revisionId'>>;

type Input = Record<string, unknown>;

/** Collects AWS-worded validation failures (`Value 'x' at 'timeout' failed to satisfy constraint: …`). */
class Violations {
  private readonly clauses: string[] = [];
  add(value: unknown, field: string, constraint: string): void {
    const shown = value === undefined || value === null ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`;
    this.clauses.push(`Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`);
  }
  throwIfAny(): void {
    if (!this.clauses.length) return;
    const count = this.clauses.length;
    throw new AwsError('ValidationException', `${count} validation error${count === 1 ? '' : 's'} detected: ${this.clauses.join('; ')}`, 400);
  }
}

const invalid = (message: string) => new AwsError('InvalidParameterValueException', message, 400);

/** Members the stack cannot honour: refused by name rather than accepted and ignored. */
function refuseUnsupported(input: Input): void {
  const present = (key: string) => input[key] !== undefined && input[key] !== null;
  const nonEmptyList = (value: unknown) => Array.isArray(value) && value.length > 0;
  if (input.Publish === true) throw invalid('Publish: the local stack runs only $LATEST and does not publish versions; create the function without Publish');
  if (present('PublishTo')) throw invalid('PublishTo: the local stack does not publish versions');
  if (nonEmptyList(input.Layers)) throw invalid('Layers: the local stack does not serve layers; put the layer\'s files in the function\'s .zip instead');
  const vpc = input.VpcConfig as Input | undefined;
  if (vpc && (nonEmptyList(vpc.SubnetIds) || nonEmptyList(vpc.SecurityGroupIds))) throw invalid('VpcConfig: the local stack has no VPCs; remove SubnetIds and SecurityGroupIds');
  if (nonEmptyList(input.FileSystemConfigs)) throw invalid('FileSystemConfigs: the local stack cannot mount EFS file systems');
  if (input.PackageType !== undefined && input.PackageType !== 'Zip') throw invalid(`PackageType: the local stack runs .zip packages only, not ${String(input.PackageType)}`);
  if (present('ImageConfig')) throw invalid('ImageConfig: the local stack runs .zip packages only, not container images');
  if (present('CodeSigningConfigArn')) throw invalid('CodeSigningConfigArn: the local stack does not verify code signatures');
  const dlq = input.DeadLetterConfig as Input | undefined;
  if (dlq && typeof dlq.TargetArn === 'string' && dlq.TargetArn !== '') throw invalid('DeadLetterConfig.TargetArn: the local stack does not deliver failed asynchronous invocations to a dead-letter queue');
  const snap = input.SnapStart as Input | undefined;
  if (snap && snap.ApplyOn !== undefined && snap.ApplyOn !== 'None') throw invalid('SnapStart.ApplyOn: the local stack has no SnapStart (it applies to published versions only)');
  for (const key of ['CapacityProviderConfig', 'DurableConfig', 'TenancyConfig']) if (present(key)) throw invalid(`${key}: not supported by the local stack`);
}

function checkString(v: Violations, input: Input, key: string, field: string, rules: { required?: boolean; max?: number; pattern?: RegExp; patternText?: string } = {}): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) {
    if (rules.required) v.add(value, field, 'Member must not be null');
    return undefined;
  }
  if (typeof value !== 'string') {
    v.add(value, field, 'Member must be a string');
    return undefined;
  }
  if (rules.max !== undefined && value.length > rules.max) v.add(value, field, `Member must have length less than or equal to ${rules.max}`);
  else if (rules.pattern && !rules.pattern.test(value)) v.add(value, field, `Member must satisfy regular expression pattern: ${rules.patternText ?? rules.pattern.source}`);
  return value;
}

function checkInteger(v: Violations, input: Input, key: string, field: string, min: number, max: number): number | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    v.add(value, field, 'Member must be an integer');
    return undefined;
  }
  if (value < min) v.add(value, field, `Member must have value greater than or equal to ${min}`);
  else if (value > max) v.add(value, field, `Member must have value less than or equal to ${max}`);
  return value;
}

const ROLE_PATTERN = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const HANDLER_PATTERN = /^[^\s]+$/;
const VARIABLE_NAME = /^[a-zA-Z]([a-zA-Z0-9_])+$/;
const LOG_GROUP_PATTERN = /^[.\-_/#A-Za-z0-9]+$/;

/**
 * Validates the configuration members of a CreateFunction (`creating`) or
 * UpdateFunctionConfiguration request as Lambda does: `ValidationException` for a value outside
 * the API's constraints (naming the member in Lambda's camelCase), `InvalidParameterValueException`
 * for what Lambda refuses itself (reserved environment variables, retired runtimes) and for what
 * the local stack cannot run.
 */
export function parseConfiguration(input: Input, creating: boolean): ConfigurationChange {
  refuseUnsupported(input);
  const v = new Violations();
  const change: ConfigurationChange = {};
  const runtime = checkString(v, input, 'Runtime', 'runtime');
  if (runtime !== undefined && !KNOWN_RUNTIMES.includes(runtime)) v.add(runtime, 'runtime', `Member must satisfy enum value set: [${KNOWN_RUNTIMES.join(', ')}]`);
  const role = checkString(v, input, 'Role', 'role', { required: creating, pattern: ROLE_PATTERN, patternText: 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+' });
  const handler = checkString(v, input, 'Handler', 'handler', { max: LIMITS.handlerMax, pattern: HANDLER_PATTERN, patternText: '[^\\s]+' });
  const description = checkString(v, input, 'Description', 'description', { max: LIMITS.descriptionMax });
  const timeout = checkInteger(v, input, 'Timeout', 'timeout', 1, LIMITS.timeoutMax);
  const memorySize = checkInteger(v, input, 'MemorySize', 'memorySize', LIMITS.memoryMin, LIMITS.memoryMax);
  const kmsKeyArn = checkString(v, input, 'KMSKeyArn', 'kMSKeyArn');

  let environment: Record<string, string> | undefined;
  if (input.Environment !== undefined && input.Environment !== null) {
    const variables = (input.Environment as Input).Variables;
    if (typeof input.Environment !== 'object' || (variables !== undefined && (typeof variables !== 'object' || variables === null || Array.isArray(variables)))) {
      v.add(input.Environment, 'environment.variables', 'Member must be a map of strings');
    } else {
      environment = {};
      for (const [name, value] of Object.entries((variables ?? {}) as Input)) {
        if (!VARIABLE_NAME.test(name)) v.add(name, 'environment.variables', 'Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]');
        else if (typeof value !== 'string') v.add(value, `environment.variables.${name}`, 'Member must be a string');
        else environment[name] = value;
      }
    }
  }

  let architectures: string[] | undefined;
  if (input.Architectures !== undefined && input.Architectures !== null) {
    const list = input.Architectures;
    if (!Array.isArray(list) || list.length !== 1) v.add(list, 'architectures', 'Member must have length less than or equal to 1 and greater than or equal to 1');
    else if (list[0] !== 'x86_64' && list[0] !== 'arm64') v.add(list[0], 'architectures', 'Member must satisfy enum value set: [x86_64, arm64]');
    else architectures = [list[0]];
  }
  let tracingMode: string | undefined;
  const tracing = input.TracingConfig as Input | undefined;
  if (tracing && tracing.Mode !== undefined) {
    if (tracing.Mode !== 'Active' && tracing.Mode !== 'PassThrough') v.add(tracing.Mode, 'tracingConfig.mode', 'Member must satisfy enum value set: [Active, PassThrough]');
    else tracingMode = tracing.Mode;
  }
  const ephemeral = input.EphemeralStorage as Input | undefined;
  const ephemeralStorage = ephemeral ? checkInteger(v, ephemeral, 'Size', 'ephemeralStorage.size', LIMITS.ephemeralMin, LIMITS.ephemeralMax) : undefined;
  if (ephemeral && ephemeral.Size === undefined) v.add(undefined, 'ephemeralStorage.size', 'Member must not be null');

  const logging = input.LoggingConfig as Input | undefined;
  let logFormat: 'Text' | 'JSON' | undefined;
  let logGroup: string | undefined;
  let applicationLogLevel: string | undefined;
  let systemLogLevel: string | undefined;
  if (logging) {
    if (logging.LogFormat !== undefined && logging.LogFormat !== 'Text' && logging.LogFormat !== 'JSON') v.add(logging.LogFormat, 'loggingConfig.logFormat', 'Member must satisfy enum value set: [JSON, Text]');
    else logFormat = logging.LogFormat as 'Text' | 'JSON' | undefined;
    logGroup = checkString(v, logging, 'LogGroup', 'loggingConfig.logGroup', { max: 512, pattern: LOG_GROUP_PATTERN });
    applicationLogLevel = checkString(v, logging, 'ApplicationLogLevel', 'loggingConfig.applicationLogLevel');
    if (applicationLogLevel !== undefined && !['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].includes(applicationLogLevel)) v.add(applicationLogLevel, 'loggingConfig.applicationLogLevel', 'Member must satisfy enum value set: [TRACE, DEBUG, INFO, WARN, ERROR, FATAL]');
    systemLogLevel = checkString(v, logging, 'SystemLogLevel', 'loggingConfig.systemLogLevel');
    if (systemLogLevel !== undefined && !['DEBUG', 'INFO', 'WARN'].includes(systemLogLevel)) v.add(systemLogLevel, 'loggingConfig.systemLogLevel', 'Member must satisfy enum value set: [DEBUG, INFO, WARN]');
  }
  v.throwIfAny();

  if (runtime !== undefined) {
    if (RETIRED_RUNTIMES[runtime]) {
      throw invalid(`The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (${RETIRED_RUNTIMES[runtime]}) while creating or updating functions.`);
    }
    if (!SUPPORTED_RUNTIMES.includes(runtime)) throw invalid(`Runtime: the local stack runs Node.js (${NODE_RUNTIMES.join(', ')}) and Python (${PYTHON_RUNTIMES.join(', ')}) functions, not ${runtime}`);
  }
  if (environment) {
    const reserved = Object.keys(environment).filter((name) => RESERVED_VARIABLES.includes(name));
    if (reserved.length) {
      throw invalid(`Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`);
    }
    const measured = JSON.stringify(environment);
    if (Buffer.byteLength(measured) > LIMITS.environmentBytes) {
      throw invalid(`Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`);
    }
  }
  const assign = <K extends keyof ConfigurationChange>(key: K, value: ConfigurationChange[K] | undefined) => {
    if (value !== undefined) change[key] = value;
  };
  assign('runtime', runtime);
  assign('role', role);
  assign('handler', handler);
  assign('description', description);
  assign('timeout', timeout);
  assign('memorySize', memorySize);
  assign('environment', environment);
  assign('kmsKeyArn', kmsKeyArn);
  assign('architectures', architectures);
  assign('tracingMode', tracingMode);
  assign('ephemeralStorage', ephemeralStorage);
  assign('logFormat', logFormat);
  assign('logGroup', logGroup);
  assign('applicationLogLevel', applicationLogLevel);
  assign('systemLogLevel', systemLogLevel);
  if (creating) {
    if (change.runtime === undefined) throw invalid('Runtime: a function packaged as a .zip needs a runtime (e.g. python3.12 or nodejs22.x)');
    if (change.handler === undefined) throw invalid('Handler: a function packaged as a .zip needs a handler (module.function for Python, file.export for Node.js)');
  }
  return change;
}

/**
 * Checks a function after a create or update is merged into it: log levels belong to the JSON
 * log format (Lambda's defaults: INFO), and the Text format has none.
 */
export function settleLogging(record: FunctionRecord, changed: ConfigurationChange): void {
  if (record.logFormat === 'JSON') {
    record.applicationLogLevel ??= 'INFO';
    record.systemLogLevel ??= 'INFO';
    return;
  }
  if (changed.applicationLogLevel !== undefined || changed.systemLogLevel !== undefined) {
    throw invalid('LoggingConfig: ApplicationLogLevel and SystemLogLevel can be set only when LogFormat is JSON');
  }
  delete record.applicationLogLevel;
  delete record.systemLogLevel;
}

/** CreateFunction's Tags: a map of strings. */
export function parseTags(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new AwsError('ValidationException', "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must be a map of strings", 400);
  const tags: Record<string, string> = {};
  for (const [key, tag] of Object.entries(value as Input)) {
    if (typeof tag !== 'string') throw new AwsError('ValidationException', `1 validation error detected: Value at 'tags.${key}' failed to satisfy constraint: Member must be a string`, 400);
    tags[key] = tag;
  }
  return tags;
}

/** Lambda's LastModified format: `2026-11-23T10:44:31.781+0000`. */
export function lambdaTimestamp(date = new Date()): string {
  return date.toISOString().replace('Z', '+0000');
}

export type ConfigurationView = 'full' | 'list';

export interface StateOverride {
  State?: string;
  StateReason?: string;
  StateReasonCode?: string;
  LastUpdateStatus?: string;
  LastUpdateStatusReason?: string;
  LastUpdateStatusReasonCode?: string;
}

/**
 * A function's FunctionConfiguration as Lambda answers it. ListFunctions leaves out the state
 * members and RuntimeVersionConfig (`view: 'list'`), as Lambda does.
 */
export function renderConfiguration(record: FunctionRecord, region: string, accountId: string, view: ConfigurationView = 'full', state: StateOverride = {}): Record<string, unknown> {
  const configuration: Record<string, unknown> = {
    FunctionName: record.name,
    FunctionArn: functionArn(region, accountId, record.name),
    Runtime: record.runtime,
    Role: record.role,
    Handler: record.handler,
    CodeSize: record.codeSize,
    Description: record.description,
    Timeout: record.timeout,
    MemorySize: record.memorySize,
    LastModified: record.lastModified,
    CodeSha256: Buffer.from(record.codeSha256, 'hex').toString('base64'),
    Version: LATEST,
  };
  if (record.environment) configuration.Environment = { Variables: { ...record.environment } };
  if (record.kmsKeyArn) configuration.KMSKeyArn = record.kmsKeyArn;
  configuration.TracingConfig = { Mode: record.tracingMode };
  configuration.RevisionId = record.revisionId;
  if (view === 'full') {
    configuration.State = state.State ?? 'Active';
    if (state.StateReason) configuration.StateReason = state.StateReason;
    if (state.StateReasonCode) configuration.StateReasonCode = state.StateReasonCode;
    if (state.State !== 'Pending') configuration.LastUpdateStatus = state.LastUpdateStatus ?? 'Successful';
    if (state.LastUpdateStatusReason) configuration.LastUpdateStatusReason = state.LastUpdateStatusReason;
    if (state.LastUpdateStatusReasonCode) configuration.LastUpdateStatusReasonCode = state.LastUpdateStatusReasonCode;
  }
  configuration.PackageType = 'Zip';
  configuration.Architectures = [...record.architectures];
  configuration.EphemeralStorage = { Size: record.ephemeralStorage };
  configuration.SnapStart = { ApplyOn: 'None', OptimizationStatus: 'Off' };
  if (view === 'full') configuration.RuntimeVersionConfig = { RuntimeVersionArn: `arn:aws:lambda:${region}::runtime:scones-local-${record.runtime}` };
  const logging: Record<string, unknown> = { LogFormat: record.logFormat, LogGroup: record.logGroup };
  if (record.applicationLogLevel) logging.ApplicationLogLevel = record.applicationLogLevel;
  if (record.systemLogLevel) logging.SystemLogLevel = record.systemLogLevel;
  configuration.LoggingConfig = logging;
  return configuration;
}
