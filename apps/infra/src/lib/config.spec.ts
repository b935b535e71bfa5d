import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfraConfigError } from '../errors';
import { FALLBACK_THRESHOLD, readConfig, unknownContextKeys } from './config';

const config = (context: Record<string, unknown>, cwd?: string) => readConfig((key) => context[key], { cwd });

const manifest = (threshold: number) => ({
  format: 'scones-image-classifier',
  formatVersion: 1,
  jobName: 'scones-job',
  createdAt: '2026-11-23T07:00:00.000Z',
  classNames: ['bicycle', 'motorcycle'],
  preprocessing: { width: 32, height: 32, channels: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
  modelPath: 'model/model.json',
  training: { seed: 1, epochs: 1, bestEpoch: 0, trainCount: 10, validationCount: 2, seconds: 1, history: [], hyperparameters: {} },
  threshold: { value: threshold, targetPrecision: 0.98, precision: 0.99, coverage: 0.7 },
  baseline: { count: 1, confidences: [0.9], predictedClassCounts: [1, 0], brightness: { r: [0.4], g: [0.4], b: [0.4] } },
});

describe('readConfig', () => {
  it('defaults to an environment-agnostic stack using an existing endpoint', () => {
    expect(config({})).toEqual({
      stackName: 'SconesStack',
      env: undefined,
      endpoint: { kind: 'external', endpointName: 'scones-endpoint' },
      threshold: { value: FALLBACK_THRESHOLD, source: 'default' },
      captureRetentionDays: 30,
      logRetentionDays: 30,
      notificationEmail: undefined,
      reportSchedule: undefined,
      maxConcurrency: undefined,
      autoDeleteData: false,
    });
  });

  it('creates the endpoint when modelDataUrl is given (built-in image by default)', () => {
    expect(config({ modelDataUrl: 's3://models-bucket/models/job-1/model.tar.gz', endpointName: 'prod-classifier' }).endpoint).toEqual({
      kind: 'managed',
      endpointName: 'prod-classifier',
      modelDataUrl: 's3://models-bucket/models/job-1/model.tar.gz',
      image: { kind: 'builtin' },
      instanceType: 'ml.m5.large',
      instanceCount: 1,
    });
  });

  it('uses the apps/endpoint image with modelImage=byoc', () => {
    const uri = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/scones-endpoint:0.1.0';
    const { endpoint } = config({ modelDataUrl: 's3://models-bucket/m.tar.gz', modelImage: 'byoc', byocImageUri: uri, instanceType: 'ml.c6g.large', instanceCount: '2' });
    expect(endpoint).toMatchObject({ image: { kind: 'byoc', imageUri: uri }, instanceType: 'ml.c6g.large', instanceCount: 2 });
  });

  it('parses strings from -c and JSON values from cdk.json alike', () => {
    const fromCli = config({ captureRetentionDays: '7', logRetentionDays: '90', maxConcurrency: '4', autoDeleteData: 'true', threshold: '0.75' });
    const fromJson = config({ captureRetentionDays: 7, logRetentionDays: 90, maxConcurrency: 4, autoDeleteData: true, threshold: 0.75 });
    expect(fromJson).toEqual(fromCli);
    expect(fromCli).toMatchObject({ captureRetentionDays: 7, logRetentionDays: 90, maxConcurrency: 4, autoDeleteData: true, threshold: { value: 0.75, source: 'context' } });
  });

  it('takes a concrete environment only with both account and region', () => {
    expect(config({ account: '123456789012', region: 'eu-west-1' }).env).toEqual({ account: '123456789012', region: 'eu-west-1' });
    expect(() => config({ region: 'eu-west-1' })).toThrow('account and region: give both');
  });

  it('reports every bad parameter in one error naming each key', () => {
    let error: unknown;
    try {
      config({
        modelDataUrl: 'https://bucket/model.tar.gz',
        endpointName: 'bad_name!',
        threshold: '1.5',
        captureRetentionDays: '0',
        logRetentionDays: '10',
        notificationEmail: 'not-an-address',
        reportSchedule: 'every day',
        autoDeleteData: 'yes',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InfraConfigError);
    const message = (error as Error).message;
    for (const expected of [
      'modelDataUrl: "https://bucket/model.tar.gz" is not an S3 URL',
      'endpointName: "bad_name!" is not a SageMaker endpoint name',
      'threshold: "1.5" is not a number between 0 and 1',
      'captureRetentionDays: "0" is not a whole number from 1 to 3650',
      "logRetentionDays: 10 is not one of CloudWatch's periods",
      'notificationEmail: "not-an-address" is not an e-mail address',
      'reportSchedule: "every day" is not a period such as 1d, 6h, 30m, or an EventBridge schedule expression',
      'autoDeleteData: expected true or false, got "yes"',
    ]) {
      expect(message).toContain(expected);
    }
  });

  it('requires byocImageUri with modelImage=byoc and rejects endpoint settings without modelDataUrl', () => {
    expect(() => config({ modelDataUrl: 's3://models-bucket/m.tar.gz', modelImage: 'byoc' })).toThrow('byocImageUri: required with modelImage=byoc');
    expect(() => config({ modelDataUrl: 's3://models-bucket/m.tar.gz', modelImage: 'docker' })).toThrow('modelImage: expected "builtin" or "byoc", got "docker"');
    expect(() => config({ modelDataUrl: 's3://models-bucket/m.tar.gz', byocImageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/x:1' })).toThrow(
      'byocImageUri: only used with modelImage=byoc',
    );
    expect(() => config({ instanceType: 'ml.m5.xlarge' })).toThrow('instanceType: only used together with modelDataUrl');
    expect(() => config({ modelDataUrl: 's3://models-bucket/m.tar.gz', modelImage: 'byoc', byocImageUri: 'docker.io/scones:latest' })).toThrow(
      'byocImageUri: "docker.io/scones:latest" is not an ECR image URI',
    );
  });

  describe('THRESHOLD from the model manifest', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'scones-infra-config-'));
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest(0.87)));
      writeFileSync(join(dir, 'broken.json'), JSON.stringify({ ...manifest(0.87), threshold: { value: 2 } }));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("uses the manifest's recommended threshold.value (path relative to the working directory)", () => {
      expect(config({ modelManifest: 'manifest.json' }, dir).threshold).toEqual({ value: 0.87, source: 'manifest' });
    });

    it('names the manifest and the bad field when the manifest is invalid or missing', () => {
      expect(() => config({ modelManifest: 'broken.json' }, dir)).toThrow(/modelManifest: .*broken\.json: threshold\.value/);
      expect(() => config({ modelManifest: 'missing.json' }, dir)).toThrow(/modelManifest: ENOENT.*missing\.json/);
    });

    it('refuses threshold and modelManifest together', () => {
      expect(() => config({ modelManifest: 'manifest.json', threshold: '0.5' }, dir)).toThrow('threshold and modelManifest: give one of them');
    });
  });
});

describe('reportSchedule', () => {
  it('takes a period (no shell quoting needed) or an EventBridge expression', () => {
    expect(config({ reportSchedule: '1d' }).reportSchedule).toBe('rate(1 day)');
    expect(config({ reportSchedule: '6h' }).reportSchedule).toBe('rate(6 hours)');
    expect(config({ reportSchedule: '30m' }).reportSchedule).toBe('rate(30 minutes)');
    expect(config({ reportSchedule: 'cron(0 6 * * ? *)' }).reportSchedule).toBe('cron(0 6 * * ? *)');
    expect(config({ reportSchedule: 'rate(2 days)' }).reportSchedule).toBe('rate(2 days)');
    expect(() => config({ reportSchedule: '0d' })).toThrow('reportSchedule: "0d" is not a period such as 1d, 6h, 30m');
  });
});

describe('unknownContextKeys', () => {
  it("reports typos but not CDK's own namespaced keys", () => {
    expect(unknownContextKeys(['modelDataUrl', 'modelDataURL', 'aws:cdk:bundling-stacks', '@aws-cdk/core:newStyleStackSynthesis', 'treshold'])).toEqual([
      'modelDataURL',
      'treshold',
    ]);
  });
});
