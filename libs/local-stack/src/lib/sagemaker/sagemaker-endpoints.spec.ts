import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
  waitUntilEndpointDeleted,
  waitUntilEndpointInService,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { pack as tarPack } from 'tar-stream';
import { gzipSync } from 'node:zlib';
import { writeFixtureArtifact } from '@scones/image-classifier/testing';
import { startTestStack, type TestStack } from '../../testing';
import { BUILTIN_IMAGE, createBucket, environmentClients, eventually, fixtureModelTarball, getText, listKeys, png, putObject, ROLE, useSdkEnvironment } from '../../../test/sagemaker-kit';

const run = promisify(execFile);
jest.setTimeout(180_000);

const PROJECT_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/scones-endpoint:0.1.0';
const CAPTURE = {
  EnableCapture: true,
  InitialSamplingPercentage: 100,
  DestinationS3Uri: 's3://scones/data_capture',
  CaptureOptions: [{ CaptureMode: 'Input' as const }, { CaptureMode: 'Output' as const }],
  CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
};
const fast = { minDelay: 1, maxDelay: 1, maxWaitTime: 120 };

/** A tar.gz holding files that are not a model artifact. */
function junkTarball(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pack = tarPack();
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
    pack.on('end', () => resolve(gzipSync(Buffer.concat(chunks))));
    pack.on('error', reject);
    pack.entry({ name: 'image-classification-symbol.json' }, '{"nodes": []}');
    pack.entry({ name: 'model-shapes.json' }, '[]');
    pack.finalize();
  });
}

describe('SageMaker endpoints served by worker processes, InvokeEndpoint through the stack', () => {
  let dataDir: string;
  let stack: TestStack;
  let sagemaker: SageMakerClient;
  let runtime: SageMakerRuntimeClient;
  let s3: S3Client;
  let restore: () => void;
  let scratch: string;
  const image = png(120, 3);

  const deploy = async (endpoint: string, config: string, model: string, container: { Image: string; ModelDataUrl: string }) => {
    await sagemaker.send(new CreateModelCommand({ ModelName: model, ExecutionRoleArn: ROLE, PrimaryContainer: container }));
    await sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: config,
        ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: model, InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }],
        DataCaptureConfig: CAPTURE,
      }),
    );
    await sagemaker.send(new CreateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: config }));
  };
  const invoke = (endpoint: string, body: Uint8Array = image, contentType = 'image/png', extra = {}) =>
    runtime.send(new InvokeEndpointCommand({ EndpointName: endpoint, ContentType: contentType, Body: body, ...extra }));
  const cliEnv = () => ({ ...process.env, ...stack.context.sdkEnvironment() });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'scones-sm-'));
    scratch = await mkdtemp(join(tmpdir(), 'scones-sm-files-'));
    stack = await startTestStack({ services: ['s3', 'logs', 'sagemaker', 'sagemaker-runtime'], dataDir });
    restore = useSdkEnvironment(stack.context.sdkEnvironment());
    ({ sagemaker, runtime, s3 } = environmentClients());
    await createBucket(s3, 'scones');
    await putObject(s3, 'scones', 'models/fixture/output/model.tar.gz', await fixtureModelTarball());
    await deploy('scones-endpoint', 'scones-config', 'scones-model', { Image: BUILTIN_IMAGE, ModelDataUrl: 's3://scones/models/fixture/output/model.tar.gz' });
    const waited = await waitUntilEndpointInService({ client: sagemaker, ...fast }, { EndpointName: 'scones-endpoint' });
    expect(waited.state).toBe('SUCCESS');
  });
  afterAll(async () => {
    sagemaker.destroy();
    runtime.destroy();
    s3.destroy();
    restore();
    await stack.dispose();
    await rm(dataDir, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  it('describes the InService endpoint with its variant and data capture', async () => {
    const described = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'scones-endpoint' }));
    expect(described).toMatchObject({
      EndpointName: 'scones-endpoint',
      EndpointArn: 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/scones-endpoint',
      EndpointConfigName: 'scones-config',
      EndpointStatus: 'InService',
      ProductionVariants: [{ VariantName: 'AllTraffic', DeployedImages: [{ SpecifiedImage: BUILTIN_IMAGE }], CurrentInstanceCount: 1, CurrentWeight: 1 }],
      DataCaptureConfig: { EnableCapture: true, CaptureStatus: 'Started', CurrentSamplingPercentage: 100, DestinationS3Uri: 's3://scones/data_capture' },
    });
    expect(described.FailureReason).toBeUndefined();
  });

  it('invokes the model and captures the request with its inference id', async () => {
    const answer = await invoke('scones-endpoint', image, 'image/png', { InferenceId: 'inference-42', CustomAttributes: 'trace=1' });
    const probabilities = JSON.parse(Buffer.from(answer.Body!).toString()) as number[];
    expect(probabilities).toHaveLength(2);
    expect(probabilities[0] + probabilities[1]).toBeCloseTo(1, 5);
    expect(answer.ContentType).toBe('application/json');
    expect(answer.InvokedProductionVariant).toBe('AllTraffic');
    const record = await eventually(
      async () => {
        for (const key of await listKeys(s3, 'scones', 'data_capture/scones-endpoint/AllTraffic/')) {
          const line = (await getText(s3, 'scones', key)).split('\n').find((l) => l.includes('inference-42'));
          if (line) return JSON.parse(line) as { captureData: { endpointInput: { data: string; encoding: string }; endpointOutput: { data: string } } };
        }
        return undefined;
      },
      20_000,
      'capture record in S3',
    );
    expect(Buffer.from(record.captureData.endpointInput.data, 'base64').equals(image)).toBe(true);
    expect(JSON.parse(record.captureData.endpointOutput.data)).toEqual(probabilities);
  });

  it('answers model failures with ModelError 424 and the container status', async () => {
    await expect(invoke('scones-endpoint', Buffer.from('not an image'))).rejects.toMatchObject({
      name: 'ModelError',
      OriginalStatusCode: 400,
      $metadata: { httpStatusCode: 424 },
    });
    await expect(invoke('scones-endpoint', Buffer.from('a,b'), 'text/csv')).rejects.toMatchObject({ name: 'ModelError', OriginalStatusCode: 415 });
  });

  it('refuses a body above 6 MB with 413 ValidationError, and an unknown endpoint as SageMaker does', async () => {
    await expect(invoke('scones-endpoint', Buffer.alloc(6 * 1024 * 1024 + 1))).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('Request has oversize body'),
      $metadata: { httpStatusCode: 413 },
    });
    await expect(invoke('no-such-endpoint')).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'Endpoint no-such-endpoint of account 000000000000 not found.',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(invoke('scones-endpoint', image, 'image/png', { TargetModel: 'other.tar.gz' })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('TargetModel'),
    });
  });

  it('refuses a second endpoint with the same name', async () => {
    await expect(sagemaker.send(new CreateEndpointCommand({ EndpointName: 'scones-endpoint', EndpointConfigName: 'scones-config' }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Cannot create already existing endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/scones-endpoint".',
    });
  });

  it('serves the AWS CLI 2.9 with --endpoint-url: wait, describe-endpoint, invoke-endpoint', async () => {
    const aws = (...args: string[]) => run('/usr/bin/aws', [...args, '--endpoint-url', stack.url], { env: cliEnv() });
    await aws('sagemaker', 'wait', 'endpoint-in-service', '--endpoint-name', 'scones-endpoint');
    const described = JSON.parse((await aws('sagemaker', 'describe-endpoint', '--endpoint-name', 'scones-endpoint', '--output', 'json')).stdout) as Record<string, unknown>;
    expect(described).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'scones-config' });
    const input = join(scratch, 'image.png');
    const output = join(scratch, 'out.json');
    await writeFile(input, image);
    const meta = JSON.parse(
      (await aws('sagemaker-runtime', 'invoke-endpoint', '--endpoint-name', 'scones-endpoint', '--content-type', 'image/png', '--body', `fileb://${input}`, '--output', 'json', output)).stdout,
    ) as Record<string, unknown>;
    expect(meta).toMatchObject({ ContentType: 'application/json', InvokedProductionVariant: 'AllTraffic' });
    expect(JSON.parse(await readFile(output, 'utf8'))).toHaveLength(2);
  });

  it('serves boto3 with only the environment, and Debian boto3 1.26 with endpoint_url=', async () => {
    const script = (endpointArg: string) => `
import boto3, json, sys
kw = ${endpointArg}
sm = boto3.client('sagemaker', **kw)
sm.get_waiter('endpoint_in_service').wait(EndpointName='scones-endpoint', WaiterConfig={'Delay': 1, 'MaxAttempts': 30})
rt = boto3.client('sagemaker-runtime', **kw)
body = open(sys.argv[1], 'rb').read()
answer = rt.invoke_endpoint(EndpointName='scones-endpoint', ContentType='image/png', Body=body)
out = json.loads(answer['Body'].read())
try:
    rt.invoke_endpoint(EndpointName='scones-endpoint', ContentType='image/png', Body=b'junk')
    error = None
except rt.exceptions.ModelError as e:
    error = [e.response['Error']['Code'], e.response['OriginalStatusCode']]
try:
    sm.describe_endpoint(EndpointName='missing')
    missing = None
except sm.exceptions.ClientError as e:
    missing = e.response['Error']['Code']
print(json.dumps({'status': sm.describe_endpoint(EndpointName='scones-endpoint')['EndpointStatus'], 'probabilities': out, 'variant': answer['InvokedProductionVariant'], 'error': error, 'missing': missing}))
`;
    const input = join(scratch, 'boto.png');
    await writeFile(input, image);
    const envOnly = await run('python3', ['-c', script('{}'), input], { env: cliEnv() });
    const modern = JSON.parse(envOnly.stdout) as Record<string, unknown>;
    expect(modern).toMatchObject({ status: 'InService', variant: 'AllTraffic', error: ['ModelError', 400], missing: 'ValidationException' });
    expect(modern.probabilities).toHaveLength(2);
    const { AWS_ENDPOINT_URL: _url, ...withoutUrl } = cliEnv();
    const old = await run('/usr/bin/python3', ['-c', script(`{'endpoint_url': '${stack.url}'}`), input], { env: withoutUrl });
    expect(JSON.parse(old.stdout)).toMatchObject({ status: 'InService', variant: 'AllTraffic', error: ['ModelError', 400], missing: 'ValidationException' });
  });

  it('restarts a crashed endpoint process and says so in its log', async () => {
    const status = (await stack.status()).services.sagemaker as { endpoints: Array<{ name: string; pid?: number }> };
    const pid = status.endpoints.find((e) => e.name === 'scones-endpoint')?.pid;
    expect(pid).toEqual(expect.any(Number));
    // The pid comes from the stack's own child-process object, in this process: a test may signal it.
    process.kill(pid!, 'SIGKILL');
    const answer = await eventually(async () => invoke('scones-endpoint'), 60_000, 'invocation after the crash');
    expect(JSON.parse(Buffer.from(answer.Body!).toString())).toHaveLength(2);
    const after = (await stack.status()).services.sagemaker as { endpoints: Array<{ name: string; pid?: number }> };
    expect(after.endpoints.find((e) => e.name === 'scones-endpoint')?.pid).not.toBe(pid);
    const logs = new CloudWatchLogsClient({ maxAttempts: 1 });
    try {
      const group = '/aws/sagemaker/Endpoints/scones-endpoint';
      const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: group, logStreamNamePrefix: 'AllTraffic/' }));
      const messages: string[] = [];
      for (const stream of streams.logStreams ?? []) {
        const events = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream.logStreamName!, startFromHead: true }));
        messages.push(...(events.events ?? []).map((e) => e.message!));
      }
      expect(messages).toContainEqual(expect.stringContaining('exited unexpectedly (SIGKILL); restarting it'));
    } finally {
      logs.destroy();
    }
  });

  it('fails an endpoint whose model data cannot be loaded, with the reason', async () => {
    await putObject(s3, 'scones', 'models/junk/model.tar.gz', await junkTarball());
    await putObject(s3, 'scones', 'models/notgz/model.tar.gz', 'plain text, not gzip');
    await deploy('junk-endpoint', 'junk-config', 'junk-model', { Image: BUILTIN_IMAGE, ModelDataUrl: 's3://scones/models/junk/model.tar.gz' });
    await deploy('notgz-endpoint', 'notgz-config', 'notgz-model', { Image: BUILTIN_IMAGE, ModelDataUrl: 's3://scones/models/notgz/model.tar.gz' });
    await deploy('absent-endpoint', 'absent-config', 'absent-model', { Image: BUILTIN_IMAGE, ModelDataUrl: 's3://scones/models/absent/model.tar.gz' });
    const waited = await waitUntilEndpointInService({ client: sagemaker, ...fast }, { EndpointName: 'junk-endpoint' }).catch((error: unknown) => error);
    expect(waited).toMatchObject({ name: 'Error' });
    const reason = async (name: string) => {
      const d = await eventually(
        async () => {
          const x = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
          return x.EndpointStatus === 'Failed' ? x : undefined;
        },
        90_000,
        `${name} Failed`,
      );
      return d.FailureReason;
    };
    expect(await reason('junk-endpoint')).toMatch(/Production variant AllTraffic: .*manifest\.json not found/);
    expect(await reason('notgz-endpoint')).toMatch(/s3:\/\/scones\/models\/notgz\/model\.tar\.gz is not a gzip-compressed tar archive/);
    expect(await reason('absent-endpoint')).toMatch(/Could not find model data at s3:\/\/scones\/models\/absent\/model\.tar\.gz/);
    await expect(invoke('junk-endpoint')).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('Failed') });
  });

  it("updates to a model in the project's own layout and image; the old deployment serves until then", async () => {
    await writeFixtureArtifact({ s3, bucket: 'scones', prefix: 'models/own-job/' }, { jobName: 'own-job', classNames: ['bicycle', 'motorcycle', 'unicycle'] });
    await sagemaker.send(new CreateModelCommand({ ModelName: 'own-model', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: PROJECT_IMAGE, ModelDataUrl: 's3://scones/models/own-job/' } }));
    await sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'own-config',
        ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'own-model', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }],
        DataCaptureConfig: CAPTURE,
      }),
    );
    await sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'scones-endpoint', EndpointConfigName: 'own-config' }));
    const during = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'scones-endpoint' }));
    expect(during.EndpointStatus).toBe('Updating');
    expect(JSON.parse(Buffer.from((await invoke('scones-endpoint')).Body!).toString())).toHaveLength(2);
    await waitUntilEndpointInService({ client: sagemaker, ...fast }, { EndpointName: 'scones-endpoint' });
    const after = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'scones-endpoint' }));
    expect(after).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'own-config', ProductionVariants: [{ DeployedImages: [{ SpecifiedImage: PROJECT_IMAGE }] }] });
    expect(JSON.parse(Buffer.from((await invoke('scones-endpoint')).Body!).toString())).toHaveLength(3);
  });

  it('serves InService endpoints again after a restart of the stack, without fetching the model again', async () => {
    // The model's S3 objects go: an endpoint keeps the copy it has, as a SageMaker instance does.
    for (const key of await listKeys(s3, 'scones', 'models/own-job/')) await s3.send(new DeleteObjectCommand({ Bucket: 'scones', Key: key }));
    await stack.close();
    stack = await startTestStack({ services: ['s3', 'logs', 'sagemaker', 'sagemaker-runtime'], dataDir });
    restore();
    restore = useSdkEnvironment(stack.context.sdkEnvironment());
    sagemaker.destroy();
    runtime.destroy();
    s3.destroy();
    ({ sagemaker, runtime, s3 } = environmentClients());
    const described = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'scones-endpoint' }));
    expect(described.EndpointStatus).toBe('InService');
    expect(JSON.parse(Buffer.from((await invoke('scones-endpoint')).Body!).toString())).toHaveLength(3);
    expect((await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'junk-endpoint' }))).EndpointStatus).toBe('Failed');
  });

  it('deletes an endpoint: Deleting, then gone for DescribeEndpoint (the deleted waiter) and InvokeEndpoint', async () => {
    await sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'scones-endpoint' }));
    await expect(invoke('scones-endpoint')).rejects.toMatchObject({ name: 'ValidationError' });
    const waited = await waitUntilEndpointDeleted({ client: sagemaker, ...fast }, { EndpointName: 'scones-endpoint' });
    expect(waited.state).toBe('SUCCESS');
    await expect(sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'scones-endpoint' }))).rejects.toMatchObject({ name: 'ValidationException' });
  });
});
