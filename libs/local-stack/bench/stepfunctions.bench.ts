// Step Functions on the local stack vs the project's in-process runner, side by side in one run:
// the project's own definitions (single image, and the batch Map over the test images) and its
// three Lambda bundles (built like `nx build`), with the stack's S3 and a model endpoint
// (@scones/model-server over HTTP) for both.
// - API: the functions created on the stack's Lambda (Node.js execution environments), the state
//   machines created on its Step Functions, each execution StartExecution + DescribeExecution
//   (polled every --poll ms) through @aws-sdk/client-sfn.
// - runner: LocalWorkflowRunner (libs/workflow) with the same bundles loaded in-process.
//   node tools/run-ts.js libs/local-stack/bench/stepfunctions.bench.ts [--images 200] [--rounds 3] [--poll 2]
// Target (issue 16): the API ≤ 1.2× the runner's time, for single executions and for the Map.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateFunctionCommand, LambdaClient, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient, StartExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { encodeCifarRowPng, readCifarArchive } from '@scones/cifar-decoder';
import { createS3Client, putObjects } from '@scones/local-cloud';
import { createModelServer } from '@scones/model-server';
import { buildBatchWorkflowDefinition, buildWorkflowDefinition, LOCAL_FUNCTION_NAMES, loadLocalLambdas, LocalWorkflowRunner, testCase, type WorkflowFunctions } from '@scones/workflow';
import { zipSync } from 'fflate';
import { buildLambdaBundle, workspaceScratch } from '../../../tools/lambda-bundles';
import { startTestStack } from '../src/testing';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { images: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' }, poll: { type: 'string', default: '2' } } });
const IMAGES = Number(values.images);
const ROUNDS = Number(values.rounds);
const POLL_MS = Number(values.poll);
const ROOT = process.env.SCONES_ROOT ?? process.cwd();
const CIFAR = process.env.SCONES_CIFAR_SOURCE || '/work/shared/data/cifar-100-python-bicycle-motorcycle.tar.gz';
const ENDPOINT = 'bench-endpoint';
const THRESHOLD = 0.8;
const GOAL_RATIO = 1.2;
const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const ROLE = 'arn:aws:iam::000000000000:role/bench';

const log = (message: string) => process.stderr.write(`stepfunctions bench: ${message}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** CPU (ms) of this process and of its live children (the Lambda execution environments), from /proc. */
function cpuMs(): number {
  const of = (pid: number | 'self') => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 10;
    } catch {
      return 0;
    }
  };
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    /* not Linux */
  }
  return of('self') + children.reduce((sum, pid) => sum + of(pid), 0);
}

async function testImages(n: number): Promise<{ pngs: Buffer[]; source: string }> {
  if (existsSync(CIFAR)) {
    const archive = await readCifarArchive(CIFAR);
    const rows = Math.min(n, archive.test.rows);
    return { pngs: Array.from({ length: rows }, (_, row) => encodeCifarRowPng(archive.test.data, row)), source: `real CIFAR-100 test images (${CIFAR.split('/').pop()})` };
  }
  throw new Error(`the CIFAR test images are not at ${CIFAR} (set SCONES_CIFAR_SOURCE)`);
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sfn-bench-'));
  const scratch = await workspaceScratch('sfn-bench-');
  // Confident for about half of the images, so both the pass and the THRESHOLD_CONFIDENCE_NOT_MET path run.
  const endpoint = createModelServer({
    endpointName: ENDPOINT,
    predictor: { classNames: ['bicycle', 'motorcycle'], predictImages: async (images) => images.map((i) => (i.data[0] % 2 ? [0.9, 0.1] : [0.6, 0.4])) },
  });
  const stack = await startTestStack({ dataDir, services: ['s3', 'sns', 'lambda', 'states'] });
  const sfn = new SFNClient({ endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
  try {
    const [endpointUrl, images] = await Promise.all([endpoint.listen(), testImages(IMAGES)]);
    const names = Object.values(LOCAL_FUNCTION_NAMES);
    const bundles = Object.fromEntries(await Promise.all(names.map(async (name) => [name, (await buildLambdaBundle(name, { outdir: join(scratch, name) })).file] as const)));

    const s3 = createS3Client({ kind: 'local', s3Endpoint: stack.url });
    await s3.send(new CreateBucketCommand({ Bucket: 'scones' }));
    const keys = images.pngs.map((_, i) => `data/test/${String(i).padStart(3, '0')}.png`);
    await putObjects(s3, 'scones', keys.map((key, i) => ({ key, body: images.pngs[i], contentType: 'image/png' })));
    const sns = new SNSClient({ endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS });
    const notifyTopicArn = (await sns.send(new CreateTopicCommand({ Name: 'scones-workflow-failures' }))).TopicArn as string;
    sns.destroy();

    // The same bundles as functions on the stack, configured like their deployed functions.
    const lambda = new LambdaClient({ endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
    const arns: Record<string, string> = {};
    for (const name of names) {
      const created = await lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs22.x',
          Role: ROLE,
          Handler: 'main.handler',
          Timeout: 30,
          Environment: { Variables: { ENDPOINT_NAME: ENDPOINT, THRESHOLD: String(THRESHOLD), AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: endpointUrl, POWERTOOLS_LOG_LEVEL: 'WARN' } },
          Code: { ZipFile: zipSync({ 'main.js': readFileSync(bundles[name]) }) },
        }),
      );
      await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 60, minDelay: 1 }, { FunctionName: name });
      arns[name] = created.FunctionArn as string;
    }
    lambda.destroy();
    const stackFunctions: WorkflowFunctions = { serialize: arns[LOCAL_FUNCTION_NAMES.serialize], classify: arns[LOCAL_FUNCTION_NAMES.classify], filter: arns[LOCAL_FUNCTION_NAMES.filter] };
    const create = async (name: string, definition: unknown) =>
      (await sfn.send(new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: ROLE }))).stateMachineArn as string;
    const singleArn = await create('scones-workflow', buildWorkflowDefinition({ functions: stackFunctions, notifyTopicArn }));
    const batchArn = await create('scones-batch', buildBatchWorkflowDefinition({ functions: stackFunctions, notifyTopicArn }));

    // The in-process runner with the same bundles, S3 and endpoint.
    const handlers = loadLocalLambdas({ bundles, target: { kind: 'local', s3Endpoint: stack.url, sagemakerRuntimeEndpoint: endpointUrl }, endpointName: ENDPOINT, threshold: THRESHOLD });
    const runnerOptions = { functions: LOCAL_FUNCTION_NAMES, notifyTopicArn };
    const onNotification = () => undefined;
    const single = new LocalWorkflowRunner(buildWorkflowDefinition(runnerOptions), { handlers, s3, onNotification });
    const batch = new LocalWorkflowRunner(buildBatchWorkflowDefinition(runnerOptions), { handlers, s3, onNotification });

    const viaApi = async (stateMachineArn: string, input: unknown): Promise<DescribeExecutionCommandOutput & { serverMs: number }> => {
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
      for (;;) {
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (described.status !== 'RUNNING') return { ...described, serverMs: (described.stopDate?.getTime() ?? 0) - (described.startDate?.getTime() ?? 0) };
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    };
    const batchInput = { s3_bucket: 'scones', s3_keys: keys };

    log(`${keys.length} images (${images.source}); warming up`);
    for (const key of keys.slice(0, 20)) {
      await single.execute(testCase('scones', key));
      await viaApi(singleArn, testCase('scones', key));
    }
    await batch.execute(batchInput);
    await viaApi(batchArn, batchInput);

    const rounds: Array<Record<string, number>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const runner: number[] = [];
      const api: number[] = [];
      const apiServer: number[] = [];
      let agreed = 0;
      let cpu = cpuMs();
      let runnerCpu = 0;
      let apiCpu = 0;
      for (const key of keys) {
        let t = performance.now();
        const local = await single.execute(testCase('scones', key));
        runner.push(performance.now() - t);
        runnerCpu += cpuMs() - cpu;
        cpu = cpuMs();
        t = performance.now();
        const remote = await viaApi(singleArn, testCase('scones', key));
        api.push(performance.now() - t);
        apiCpu += cpuMs() - cpu;
        cpu = cpuMs();
        apiServer.push(remote.serverMs);
        if (remote.status === local.status && (remote.error ?? '') === (local.error ?? '')) agreed++;
      }
      if (agreed !== keys.length) throw new Error(`the API and the runner ended ${keys.length - agreed} executions differently`);
      let t = performance.now();
      const localBatch = await batch.execute(batchInput);
      const batchRunnerMs = performance.now() - t;
      const batchRunnerCpu = cpuMs() - cpu;
      cpu = cpuMs();
      t = performance.now();
      const remoteBatch = await viaApi(batchArn, batchInput);
      const batchApiMs = performance.now() - t;
      const batchApiCpu = cpuMs() - cpu;
      if (localBatch.status !== 'SUCCEEDED' || remoteBatch.status !== 'SUCCEEDED') throw new Error(`a batch did not succeed: runner ${localBatch.status}, API ${remoteBatch.status} ${remoteBatch.error ?? ''}`);
      // Same image outcomes (a cause holds a request id and the runtime's trace, which differ).
      const outcomes = (output: unknown) => JSON.stringify(((output as { results: Array<Record<string, unknown>> }).results ?? []).map(({ s3_key, error, inferences }) => ({ s3_key, error, inferences })));
      if (outcomes(localBatch.output) !== outcomes(JSON.parse(remoteBatch.output ?? '{}'))) {
        throw new Error(`the API and the runner classified the batch differently:\n${outcomes(localBatch.output).slice(0, 400)}\n${outcomes(JSON.parse(remoteBatch.output ?? '{}')).slice(0, 400)}`);
      }
      const r = {
        runnerP50: median(runner),
        apiP50: median(api),
        apiServerP50: median(apiServer),
        runnerCpuPerExecution: runnerCpu / keys.length,
        apiCpuPerExecution: apiCpu / keys.length,
        batchRunnerMs,
        batchApiMs,
        batchApiServerMs: remoteBatch.serverMs,
        batchRunnerCpu,
        batchApiCpu,
      };
      rounds.push(r);
      log(`round ${round + 1}: single p50 runner ${ms(r.runnerP50)}, API ${ms(r.apiP50)} (server ${ms(r.apiServerP50)}); Map runner ${ms(batchRunnerMs)}, API ${ms(batchApiMs)} (server ${ms(r.batchApiServerMs)})`);
    }
    const m = (field: string) => median(rounds.map((r) => r[field]));
    const singleRatio = m('apiP50') / m('runnerP50');
    const batchRatio = m('batchApiMs') / m('batchRunnerMs');
    const goal = (ratio: number) => `${ratio.toFixed(2)}× — ${ratio <= GOAL_RATIO ? 'met' : 'NOT met'} (≤ ${GOAL_RATIO}×)`;
    const section = [
      '## Step Functions on the local stack vs the in-process runner (libs/local-stack)',
      '',
      `Command: \`node tools/run-ts.js libs/local-stack/bench/stepfunctions.bench.ts --images ${IMAGES} --rounds ${ROUNDS} --poll ${POLL_MS}\` — ${new Date().toISOString()}`,
      '',
      `The project's definitions and its three Lambda bundles (built like \`nx build\`) over ${keys.length} ${images.source}, side by side in one run: through the stack's API (functions on its Lambda service in Node.js execution environments; StartExecution, then DescribeExecution every ${POLL_MS} ms, with @aws-sdk/client-sfn) and through LocalWorkflowRunner with the same bundles in-process. Both use the stack's S3 and one model endpoint (@scones/model-server over HTTP, a predictor that answers at once, confident for about half the images). Every execution ended the same way on both paths (checked). Medians of ${ROUNDS} rounds; CPU counts this process and the execution environments.`,
      '',
      '| measure | runner | API | API / runner |',
      '|---|---:|---:|---:|',
      `| single-image execution, p50 (wall) | ${ms(m('runnerP50'))} | ${ms(m('apiP50'))} | ${goal(singleRatio)} |`,
      `| the same, the API's own startDate→stopDate | | ${ms(m('apiServerP50'))} | |`,
      `| CPU per single execution | ${ms(m('runnerCpuPerExecution'))} | ${ms(m('apiCpuPerExecution'))} | ${(m('apiCpuPerExecution') / m('runnerCpuPerExecution')).toFixed(2)}× |`,
      `| Map over ${keys.length} images (batch definition, MaxConcurrency 10) | ${ms(m('batchRunnerMs'))} | ${ms(m('batchApiMs'))} | ${goal(batchRatio)} |`,
      `| the Map, the API's own startDate→stopDate | | ${ms(m('batchApiServerMs'))} | |`,
      `| CPU of the Map | ${ms(m('batchRunnerCpu'))} | ${ms(m('batchApiCpu'))} | ${(m('batchApiCpu') / m('batchRunnerCpu')).toFixed(2)}× |`,
      '',
    ].join('\n');
    process.stdout.write(`${section}\n`);
    const out = join(ROOT, 'dist/bench');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'local-stack-stepfunctions.md'), section);
    log(`wrote ${join(out, 'local-stack-stepfunctions.md')}`);
  } finally {
    sfn.destroy();
    await stack.dispose();
    await endpoint.close();
    await rm(scratch, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`stepfunctions bench: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
