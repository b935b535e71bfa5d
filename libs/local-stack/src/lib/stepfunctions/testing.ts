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

/**
 * The course's classify function in its most common form: `boto3.client('runtime.sagemaker')`,
 * `image/png`, the endpoint's answer parsed, the endpoint name written into the code.
 */
export function starterClassifyPy(endpointName: string): string {
  return `import json
import boto3
import base64

# Fill this in with the name of your deployed model
ENDPOINT = "${endpointName}"
runtime = boto3.client('runtime.sagemaker')


def lambda_handler(event, context):
    # Decode the image data
    image = base64.b64decode(event['body']['image_data'])
    response = runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType='image/png', Body=image)
    inferences = json.loads(response['Body'].read().decode('utf-8'))
    return {
        'statusCode': 200,
        'body': {
            "image_data": event['body']['image_data'],
            "s3_bucket": event['body']['s3_bucket'],
            "s3_key": event['body']['s3_key'],
            "inferences": inferences
        }
    }
`;
}

export interface StarterFunctions {
  serialize: string;
  classify: string;
  filter: string;
}

const CONSOLE_RETRY = [{ ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }];

/**
 * A state machine as the Step Functions console exports the course's workflow: three
 * `lambda:invoke` tasks, `"Payload.$": "$"`, `OutputPath: "$.Payload"`, the console's Retry, and
 * function ARNs of another account with `:$LATEST` (`console`). `templates` passes the same data with
 * a Payload template and ResultPath (Serialize), InputPath (Classify), a Payload template,
 * ResultSelector and OutputPath (Filter).
 */
export function starterDefinition(functions: StarterFunctions, variant: 'console' | 'templates' = 'console'): Record<string, unknown> {
  const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}:$LATEST`;
  const task = (name: string, parameters: Record<string, unknown>, extra: Record<string, unknown>) => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { ...parameters, FunctionName: arn(name) },
    Retry: CONSOLE_RETRY,
    ...extra,
  });
  if (variant === 'console') {
    return {
      Comment: 'A description of my state machine',
      StartAt: 'Serialize Image Data',
      States: {
        'Serialize Image Data': task(functions.serialize, { 'Payload.$': '$' }, { OutputPath: '$.Payload', Next: 'Image Classification' }),
        'Image Classification': task(functions.classify, { 'Payload.$': '$' }, { OutputPath: '$.Payload', Next: 'Filter Low Confidence Inferences' }),
        'Filter Low Confidence Inferences': task(functions.filter, { 'Payload.$': '$' }, { OutputPath: '$.Payload', End: true }),
      },
    };
  }
  return {
    Comment: 'The course workflow with Payload templates, InputPath, ResultPath and ResultSelector',
    StartAt: 'Serialize',
    States: {
      Serialize: task(functions.serialize, { Payload: { 's3_bucket.$': '$.s3_bucket', 's3_key.$': '$.s3_key' } }, { ResultPath: '$.serialized', Next: 'Classify' }),
      Classify: task(functions.classify, { 'Payload.$': '$' }, { InputPath: '$.serialized.Payload', OutputPath: '$.Payload', Next: 'Filter' }),
      Filter: task(functions.filter, { Payload: { 'body.$': '$.body' } }, { ResultSelector: { 'result.$': '$.Payload', 'status.$': '$.StatusCode' }, OutputPath: '$.result', End: true }),
    },
  };
}
