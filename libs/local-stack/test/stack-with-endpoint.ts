// A stack in its own process, for tests that kill it (SIGKILL) and look at what it leaves:
//   node tools/run-ts.js libs/local-stack/test/stack-with-endpoint.ts <dataDir> <endpoint>
// Starts the stack on <dataDir>, deploys the fixture model as <endpoint> with data capture to
// s3://capture/data_capture, prints one JSON line { url, workerPid } once it is InService, then
// runs until killed.
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, SageMakerClient, waitUntilEndpointInService } from '@aws-sdk/client-sagemaker';
import { startStack } from '../src/index';
import { BUILTIN_IMAGE, fixtureModelTarball, ROLE } from './sagemaker-kit';

async function main(): Promise<void> {
  const [dataDir, endpoint] = process.argv.slice(2);
  const stack = await startStack({ dataDir, port: 0, services: ['s3', 'logs', 'sagemaker', 'sagemaker-runtime'] });
  const config = { endpoint: stack.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, forcePathStyle: true };
  const s3 = new S3Client(config);
  const sagemaker = new SageMakerClient(config);
  await s3.send(new CreateBucketCommand({ Bucket: 'capture' }));
  await s3.send(new PutObjectCommand({ Bucket: 'capture', Key: 'model/model.tar.gz', Body: await fixtureModelTarball() }));
  await sagemaker.send(new CreateModelCommand({ ModelName: 'm', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: BUILTIN_IMAGE, ModelDataUrl: 's3://capture/model/model.tar.gz' } }));
  await sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: 'c',
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'm', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }],
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 100,
        DestinationS3Uri: 's3://capture/data_capture',
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
      },
    }),
  );
  await sagemaker.send(new CreateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: 'c' }));
  await waitUntilEndpointInService({ client: sagemaker, minDelay: 1, maxDelay: 1, maxWaitTime: 300 }, { EndpointName: endpoint });
  const status = (await stack.status()).services.sagemaker as { endpoints: Array<{ name: string; pid?: number }> };
  process.stdout.write(`${JSON.stringify({ url: stack.url, workerPid: status.endpoints.find((e) => e.name === endpoint)?.pid })}\n`);
  setInterval(() => undefined, 60_000);
}

main().catch((error: unknown) => {
  process.stderr.write(`stack-with-endpoint: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
