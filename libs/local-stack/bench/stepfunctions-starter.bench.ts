// The course's workflow as learners build it, through the stack's APIs: three Python functions in
// the starter's style (serialize with boto3 S3, classify with boto3 runtime.sagemaker against a
// SageMaker endpoint on the stack, a filter that raise("THRESHOLD_CONFIDENCE_NOT_MET")s), the
// console-exported state machine, the test images at the bucket root. Executions are started
// with StartExecution, --concurrency at a time, each followed with DescribeExecution.
//   node tools/run-ts.js libs/local-stack/bench/stepfunctions-starter.bench.ts [--images 200] [--concurrency 10] [--rounds 3]
// Target (issue 16): the 200 test images, 10 at a time, ≤ 5 s.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, SageMakerClient, waitUntilEndpointInService } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { encodeCifarRowPng, readCifarArchive } from '@scones/cifar-decoder';
import { createS3Client, putObjects } from '@scones/local-cloud';
import { writeFixtureArtifact } from '@scones/image-classifier/testing';
import { FILTER_RAISE_STRING_PY, SERIALIZE_PY } from '../src/lib/lambda/testing';
import { packModelTarball } from '../src/lib/sagemaker/model-data';
import { createFunction, starterClassifyPy, starterDefinition } from '../src/lib/stepfunctions/testing';
import { startTestStack } from '../src/testing';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { images: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' }, poll: { type: 'string', default: '10' } } });
const IMAGES = Number(values.images);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const POLL_MS = Number(values.poll);
const GOAL_SECONDS = 5;
const ROOT = process.env.SCONES_ROOT ?? process.cwd();
const CIFAR = process.env.SCONES_CIFAR_SOURCE || '/work/shared/data/cifar-100-python-bicycle-motorcycle.tar.gz';
const BUCKET = 'sagemaker-us-east-1-123456789012';
const ENDPOINT = 'image-classification-bench';
const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const log = (message: string) => process.stderr.write(`starter bench: ${message}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  if (!existsSync(CIFAR)) throw new Error(`the CIFAR test images are not at ${CIFAR} (set SCONES_CIFAR_SOURCE)`);
  const dataDir = await mkdtemp(join(tmpdir(), 'starter-bench-'));
  const stack = await startTestStack({ dataDir, services: ['s3', 'logs', 'sns', 'lambda', 'states', 'sagemaker', 'sagemaker-runtime'] });
  const clients = { endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 };
  const sfn = new SFNClient(clients);
  try {
    const archive = await readCifarArchive(CIFAR);
    const count = Math.min(IMAGES, archive.test.rows);
    const s3 = createS3Client({ kind: 'local', s3Endpoint: stack.url });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    // The course's layout: test/<name>.png at the bucket root.
    const keys = Array.from({ length: count }, (_, row) => `test/image_${String(row).padStart(4, '0')}.png`);
    await putObjects(s3, BUCKET, keys.map((key, row) => ({ key, body: encodeCifarRowPng(archive.test.data, row), contentType: 'image/png' })));
    const artifact = join(dataDir, 'artifact');
    await writeFixtureArtifact(join(artifact, 'model'), { jobName: 'starter-bench' });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/bench/output/model.tar.gz', Body: await packModelTarball(join(artifact, 'model')) }));
    const sagemaker = new SageMakerClient(clients);
    await sagemaker.send(new CreateModelCommand({ ModelName: 'bench-model', ExecutionRoleArn: 'arn:aws:iam::000000000000:role/SageMaker', PrimaryContainer: { Image: '811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1', ModelDataUrl: `s3://${BUCKET}/models/bench/output/model.tar.gz` } }));
    await sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'bench-config', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'bench-model', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }] }));
    await sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'bench-config' }));
    await waitUntilEndpointInService({ client: sagemaker, maxWaitTime: 300, minDelay: 1, maxDelay: 2 }, { EndpointName: ENDPOINT });
    sagemaker.destroy();
    const python = { runtime: 'python3.11', handler: 'lambda_function.lambda_handler' };
    // The fixture model is untrained: the filter's threshold is set to the median of its top
    // probabilities over some images, so about half pass and half raise, as with a real model.
    const runtime = new SageMakerRuntimeClient(clients);
    const tops: number[] = [];
    for (let row = 0; row < Math.min(40, count); row++) {
      const answer = await runtime.send(new InvokeEndpointCommand({ EndpointName: ENDPOINT, ContentType: 'image/png', Body: encodeCifarRowPng(archive.test.data, row) }));
      tops.push(Math.max(...(JSON.parse(Buffer.from(answer.Body as Uint8Array).toString('utf8')) as number[])));
    }
    runtime.destroy();
    const threshold = median(tops);
    await createFunction(stack, 'serializeImageData', { 'lambda_function.py': SERIALIZE_PY }, python);
    await createFunction(stack, 'classifyImage', { 'lambda_function.py': starterClassifyPy(ENDPOINT) }, python);
    await createFunction(stack, 'filterInferences', { 'lambda_function.py': FILTER_RAISE_STRING_PY.replace('.93', threshold.toFixed(8)) }, python);
    const definition = starterDefinition({ serialize: 'serializeImageData', classify: 'classifyImage', filter: 'filterInferences' });
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'starter-workflow', definition: JSON.stringify(definition), roleArn: 'arn:aws:iam::000000000000:role/states' }));

    const execute = async (key: string) => {
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ image_data: '', s3_bucket: BUCKET, s3_key: key }) }));
      for (;;) {
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (described.status !== 'RUNNING') return described;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    };
    const batch = async () => {
      const started = performance.now();
      const outcomes: Record<string, number> = {};
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < keys.length) {
            const described = await execute(keys[next++]);
            const outcome = described.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${described.status} ${described.error}`;
            outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
          }
        }),
      );
      return { ms: performance.now() - started, outcomes };
    };
    const cold = await batch();
    log(`first run (cold execution environments): ${(cold.ms / 1000).toFixed(2)} s ${JSON.stringify(cold.outcomes)}`);
    const warm: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const result = await batch();
      if (result.outcomes['FAILED undefined'] || Object.keys(result.outcomes).some((o) => o !== 'SUCCEEDED' && o !== 'FAILED TypeError')) throw new Error(`unexpected outcomes ${JSON.stringify(result.outcomes)}`);
      warm.push(result.ms);
      log(`round ${round + 1}: ${(result.ms / 1000).toFixed(2)} s ${JSON.stringify(result.outcomes)}`);
    }
    const seconds = median(warm) / 1000;
    const section = [
      "## The course's workflow through the stack's APIs (libs/local-stack)",
      '',
      `Command: \`node tools/run-ts.js libs/local-stack/bench/stepfunctions-starter.bench.ts --images ${IMAGES} --concurrency ${CONCURRENCY} --rounds ${ROUNDS}\` — ${new Date().toISOString()}`,
      '',
      `${count} real CIFAR-100 test images at the bucket root (the course's layout), through the console-exported state machine and three Python functions in the starter's style (serialize: boto3 S3 download; classify: boto3 \`runtime.sagemaker\` against a SageMaker endpoint on the stack serving the project's fixture model artifact; filter: \`raise("THRESHOLD_CONFIDENCE_NOT_MET")\`, a TypeError), ${CONCURRENCY} executions at a time, each StartExecution then DescribeExecution every ${POLL_MS} ms (@aws-sdk/client-sfn). The fixture model is untrained (the filter's threshold is the median of its top probability over 40 images, so both endings occur): the figures are the workflow's cost, not the model's.`,
      '',
      '| measure | time |',
      '|---|---:|',
      `| first run (Python execution environments started on demand) | ${(cold.ms / 1000).toFixed(2)} s |`,
      `| warm, median of ${ROUNDS} runs | ${seconds.toFixed(2)} s |`,
      '',
      `Goal: ${count} images, ${CONCURRENCY} at a time, ≤ ${GOAL_SECONDS} s: ${seconds <= GOAL_SECONDS ? 'met' : 'NOT met'} (${seconds.toFixed(2)} s warm).`,
      '',
    ].join('\n');
    process.stdout.write(`${section}\n`);
    const out = join(ROOT, 'dist/bench');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'local-stack-stepfunctions-starter.md'), section);
  } finally {
    sfn.destroy();
    await stack.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`starter bench: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
