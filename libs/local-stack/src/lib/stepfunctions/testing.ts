// Fixtures for the Step Functions specs and benchmark (not part of the production index): a
// multi-purpose Node.js function, a stack whose retries are fast, and a wait for an execution.
import { CreateFunctionCommand, LambdaClient, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { startTestStack, type TestStack } from '../../testing';
import type { ServiceId } from '@scones/stack-core';
import { createLambdaService } from '../lambda';
import { zipPackage } from '../lambda/testing';
import { createS3Service } from '@scones/stack-core';
import type { ServiceFactory } from '@scones/stack-core';
import { createSnsService } from '../sns/sns-service';
import { createStepFunctionsService } from './stepfunctions-service';

export const ROLE_ARN = 'arn:aws:iam::000000000000:role/scones-states';
export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/**
 * One Node.js function for many tests, by `event.action`: `echo` answers the event; `fail` throws
 * an error named `event.errorType`; `flaky` fails (FlakyError) until it has been called
 * `event.failures` times for `event.file`; `wait` answers after `event.ms`; `text` answers a string
 * that is not JSON.
 */
export const TOOLBOX_JS = `const fs = require('node:fs');
exports.handler = async (event) => {
  switch (event && event.action) {
    case 'fail': {
      const error = new Error(event.message || 'the toolbox failed as asked');
      error.name = event.errorType || 'Error';
      throw error;
    }
    case 'flaky': {
      fs.appendFileSync(event.file, 'x');
      const calls = fs.readFileSync(event.file, 'utf8').length;
      if (calls <= event.failures) {
        const error = new Error('call ' + calls + ' fails');
        error.name = 'FlakyError';
        throw error;
      }
      return { calls };
    }
    case 'wait':
      await new Promise((resolve) => setTimeout(resolve, event.ms));
      return { waited: event.ms };
    case 'text':
      return 'plain text';
    default:
      return event;
  }
};
`;

/** A stack with S3, SNS, Lambda and Step Functions; Retry intervals run 1000x faster. */
export function startStatesStack(options: { dataDir?: string; services?: ServiceId[]; retryIntervalScale?: number } = {}): Promise<TestStack> {
  const factories: Array<readonly [ServiceId, ServiceFactory]> = [
    ['s3', createS3Service],
    ['sns', createSnsService],
    ['lambda', createLambdaService],
    ['states', (stack) => createStepFunctionsService(stack, { retryIntervalScale: options.retryIntervalScale ?? 0.001 })],
  ];
  return startTestStack({ factories, services: options.services ?? ['s3', 'sns', 'lambda', 'states'], ...(options.dataDir ? { dataDir: options.dataDir } : {}) });
}

export function sfnClient(stack: TestStack, options: { disableHostPrefix?: boolean } = {}): SFNClient {
  return new SFNClient({ endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1, ...options });
}

/** Creates a function from source files on the stack's Lambda and waits until it is Active. */
export async function createFunction(stack: TestStack, name: string, files: Record<string, string>, options: { runtime?: string; handler?: string; timeout?: number } = {}): Promise<string> {
  const lambda = new LambdaClient({ endpoint: stack.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
  try {
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: (options.runtime ?? 'nodejs20.x') as never,
        Role: 'arn:aws:iam::000000000000:role/lambda',
        Handler: options.handler ?? 'index.handler',
        Timeout: options.timeout ?? 60,
        Code: { ZipFile: zipPackage(files) },
      }),
    );
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 60, minDelay: 1 }, { FunctionName: name });
    return created.FunctionArn ?? name;
  } finally {
    lambda.destroy();
  }
}

/** Polls DescribeExecution until the execution has ended (a generous deadline, not a timing assertion). */
export async function waitForEnd(sfn: SFNClient, executionArn: string, timeoutMs = 60_000): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    if (Date.now() > deadline) throw new Error(`${executionArn} still RUNNING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
export { starterClassifyPy, starterDefinition, type StarterFunctions } from '../course-starter';
