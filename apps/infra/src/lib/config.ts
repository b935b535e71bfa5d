import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_STACK_NAME } from '@scones/local-cloud';
import { modelManifestSchema, parseJsonOrThrow } from '@scones/payload-schemas';
import { InfraConfigError } from '../errors';

/** Where classify's endpoint comes from. */
export type EndpointSource =
  /** This stack creates Model, EndpointConfig (with data capture) and Endpoint from a model artifact. */
  | { kind: 'managed'; endpointName: string; modelDataUrl: string; image: ModelImage; instanceType: string; instanceCount: number }
  /** The endpoint exists already (`scones deploy --target aws`); the stack only references it. */
  | { kind: 'external'; endpointName: string };

export type ModelImage = { kind: 'builtin' } | { kind: 'byoc'; imageUri: string };

/** Everything the stack is configured with, from CDK context (`-c key=value` or cdk.json). */
export interface SconesConfig {
  stackName: string;
  /** Concrete environment when both `account` and `region` are given; otherwise the stack is environment-agnostic. */
  env?: { account: string; region: string };
  endpoint: EndpointSource;
  /** The filter Lambda's THRESHOLD and where it came from. */
  threshold: { value: number; source: 'context' | 'manifest' | 'default' };
  captureRetentionDays: number;
  logRetentionDays: number;
  notificationEmail?: string;
  /** EventBridge schedule expression of the monitoring report; no report resources without it. */
  reportSchedule?: string;
  /** Map concurrency of the batch state machine; the workflow builder's default without it. */
  maxConcurrency?: number;
  /** Delete the buckets' objects and the log groups on `cdk destroy` (default: retain them). */
  autoDeleteData: boolean;
}

/**
 * THRESHOLD when neither `threshold` nor `modelManifest` is given: the Udacity starter's value.
 * The right value is the deployed model's `threshold.value` (chosen on validation data).
 */
export const FALLBACK_THRESHOLD = 0.93;
export const DEFAULT_ENDPOINT_NAME = 'scones-endpoint';
export const DEFAULT_INSTANCE_TYPE = 'ml.m5.large';
export const DEFAULT_CAPTURE_RETENTION_DAYS = 30;
export const DEFAULT_LOG_RETENTION_DAYS = 30;

/** Retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Every context key the app reads (unknown `-c` keys are reported, they are usually typos). */
export const CONTEXT_KEYS = [
  'stackName',
  'account',
  'region',
  'modelDataUrl',
  'modelImage',
  'byocImageUri',
  'endpointName',
  'instanceType',
  'instanceCount',
  'threshold',
  'modelManifest',
  'captureRetentionDays',
  'logRetentionDays',
  'notificationEmail',
  'reportSchedule',
  'maxConcurrency',
  'autoDeleteData',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const STACK_NAME = /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/;
const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+[^/])$/;
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([a-z0-9._/-]+)(:[\w.-]{1,128}|@sha256:[0-9a-f]{64})$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SCHEDULE = /^([1-9]\d*[mhd]|rate\([1-9]\d* (minute|minutes|hour|hours|day|days)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$/;
const PERIOD_UNITS: Record<string, string> = { m: 'minute', h: 'hour', d: 'day' };

/**
 * `6h` → `rate(6 hours)`: a period needs no parentheses or spaces, which `nx run` would pass
 * unquoted to the shell. EventBridge expressions pass through.
 */
export function scheduleExpression(value: string | undefined): string | undefined {
  const period = value ? /^(\d+)([mhd])$/.exec(value) : null;
  if (!period) return value;
  const unit = PERIOD_UNITS[period[2]];
  return `rate(${period[1]} ${period[1] === '1' ? unit : `${unit}s`})`;
}

/**
 * Parses the CDK context into a {@link SconesConfig}. Every problem is collected and reported in
 * one {@link InfraConfigError} naming the context key, so a deploy never starts half-configured.
 * `context` returns the raw value (strings from `-c`, any JSON type from cdk.json); a relative
 * `modelManifest` path is resolved against `cwd`.
 */
export function readConfig(context: (key: string) => unknown, { cwd = process.cwd() }: { cwd?: string } = {}): SconesConfig {
  const problems: string[] = [];
  const text = (key: ContextKey): string | undefined => {
    const value = context(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'string') return value.trim();
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    problems.push(`${key}: expected a string, got ${JSON.stringify(value)}`);
    return undefined;
  };
  const matching = (key: ContextKey, pattern: RegExp, what: string): string | undefined => {
    const value = text(key);
    if (value !== undefined && !pattern.test(value)) problems.push(`${key}: ${JSON.stringify(value)} is not ${what}`);
    return value !== undefined && pattern.test(value) ? value : undefined;
  };
  const integer = (key: ContextKey, fallback: number | undefined, min: number, max: number): number | undefined => {
    const value = text(key);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key}: ${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };

  const stackName = matching('stackName', STACK_NAME, 'a CloudFormation stack name (a letter, then letters, digits, hyphens)') ?? DEFAULT_STACK_NAME;
  const account = matching('account', /^\d{12}$/, 'a 12-digit AWS account id');
  const region = matching('region', /^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1');
  if ((account === undefined) !== (region === undefined) && problems.length === 0) {
    problems.push('account and region: give both (a concrete environment) or neither (an environment-agnostic stack)');
  }

  const endpointName = matching('endpointName', ENDPOINT_NAME, 'a SageMaker endpoint name (letters, digits, hyphens, at most 63)') ?? DEFAULT_ENDPOINT_NAME;
  const modelDataUrl = matching('modelDataUrl', S3_URL, 'an S3 URL of a model artifact (s3://bucket/key/model.tar.gz)');
  const modelImageKind = text('modelImage') ?? 'builtin';
  if (modelImageKind !== 'builtin' && modelImageKind !== 'byoc') problems.push(`modelImage: expected "builtin" or "byoc", got ${JSON.stringify(modelImageKind)}`);
  const byocImageUri = matching('byocImageUri', ECR_IMAGE, 'an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>)');
  if (modelImageKind === 'byoc' && text('byocImageUri') === undefined) problems.push('byocImageUri: required with modelImage=byoc (the ECR URI of the apps/endpoint image)');
  if (modelImageKind !== 'byoc' && text('byocImageUri') !== undefined) problems.push('byocImageUri: only used with modelImage=byoc');
  const instanceType = matching('instanceType', /^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'a SageMaker instance type such as ml.m5.large') ?? DEFAULT_INSTANCE_TYPE;
  const instanceCount = integer('instanceCount', 1, 1, 10) ?? 1;
  if (text('modelDataUrl') === undefined) {
    for (const key of ['modelImage', 'byocImageUri', 'instanceType', 'instanceCount'] as const) {
      if (text(key) !== undefined) problems.push(`${key}: only used together with modelDataUrl (the stack creates no endpoint without it)`);
    }
  }
  const endpoint: EndpointSource = modelDataUrl
    ? {
        kind: 'managed',
        endpointName,
        modelDataUrl,
        image: modelImageKind === 'byoc' && byocImageUri ? { kind: 'byoc', imageUri: byocImageUri } : { kind: 'builtin' },
        instanceType,
        instanceCount,
      }
    : { kind: 'external', endpointName };

  const threshold = readThreshold(text('threshold'), text('modelManifest'), cwd, problems);
  const captureRetentionDays = integer('captureRetentionDays', DEFAULT_CAPTURE_RETENTION_DAYS, 1, 3650) ?? DEFAULT_CAPTURE_RETENTION_DAYS;
  const logRetentionDays = integer('logRetentionDays', DEFAULT_LOG_RETENTION_DAYS, 1, 3653) ?? DEFAULT_LOG_RETENTION_DAYS;
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) problems.push(`logRetentionDays: ${logRetentionDays} is not one of CloudWatch's periods (${LOG_RETENTION_DAYS.join(', ')})`);
  const notificationEmail = matching('notificationEmail', EMAIL, 'an e-mail address');
  const reportSchedule = scheduleExpression(
    matching('reportSchedule', SCHEDULE, 'a period such as 1d, 6h, 30m, or an EventBridge schedule expression such as "rate(1 day)" or "cron(0 6 * * ? *)"'),
  );
  const maxConcurrency = integer('maxConcurrency', undefined, 1, 10_000);
  const autoDelete = text('autoDeleteData') ?? 'false';
  if (autoDelete !== 'true' && autoDelete !== 'false') problems.push(`autoDeleteData: expected true or false, got ${JSON.stringify(autoDelete)}`);

  if (problems.length > 0) throw new InfraConfigError(`CDK context (--context key=value): ${problems.join('; ')}`);
  return {
    stackName,
    env: account && region ? { account, region } : undefined,
    endpoint,
    threshold,
    captureRetentionDays,
    logRetentionDays,
    notificationEmail,
    reportSchedule,
    maxConcurrency,
    autoDeleteData: autoDelete === 'true',
  };
}

function readThreshold(raw: string | undefined, manifestPath: string | undefined, cwd: string, problems: string[]): SconesConfig['threshold'] {
  if (raw !== undefined && manifestPath !== undefined) {
    problems.push('threshold and modelManifest: give one of them (modelManifest sets THRESHOLD to the manifest\'s threshold.value)');
  }
  if (raw !== undefined) {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || value > 1) problems.push(`threshold: ${JSON.stringify(raw)} is not a number between 0 and 1`);
    return { value, source: 'context' };
  }
  if (manifestPath !== undefined) {
    const file = resolve(cwd, manifestPath);
    try {
      const manifest = parseJsonOrThrow(modelManifestSchema, readFileSync(file, 'utf8'), file);
      return { value: manifest.threshold.value, source: 'manifest' };
    } catch (error) {
      problems.push(`modelManifest: ${(error as Error).message}`);
    }
  }
  return { value: FALLBACK_THRESHOLD, source: 'default' };
}

/** Context keys given that the app does not read (typos such as `-c modelDataURL=...`). */
export function unknownContextKeys(keys: string[]): string[] {
  const known = new Set<string>(CONTEXT_KEYS);
  // CDK's own keys (feature flags, bundling, lookups cache) are namespaced with ":" or start with "@aws-cdk".
  return keys.filter((key) => !known.has(key) && !key.includes(':') && !key.startsWith('@'));
}
