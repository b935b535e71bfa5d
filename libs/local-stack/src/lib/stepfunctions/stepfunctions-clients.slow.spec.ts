import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { boto3Python } from '../../../../../tools/boto3-python';
import type { TestStack } from '../../testing';
import { ROLE_ARN, TOOLBOX_JS, createFunction, startStatesStack } from './testing';

jest.setTimeout(180_000);

const run = promisify(execFile);

const definition = {
  StartAt: 'Echo',
  States: {
    Echo: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:toolbox', 'Payload.$': '$' }, OutputPath: '$.Payload', End: true },
  },
};

describe('Step Functions from the AWS CLI and boto3', () => {
  let stack: TestStack;
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    stack = await startStatesStack();
    scratch = await mkdtemp(join(tmpdir(), 'sfn-clients-'));
    env = { ...process.env, ...stack.context.sdkEnvironment() };
    await createFunction(stack, 'toolbox', { 'index.js': TOOLBOX_JS });
  });
  afterAll(async () => {
    await stack.dispose();
    await rm(scratch, { recursive: true, force: true });
  });

  const aws = async (...args: string[]) => JSON.parse((await run('/usr/bin/aws', ['stepfunctions', ...args, '--endpoint-url', stack.url, '--output', 'json'], { env })).stdout || 'null');

  it('serves the AWS CLI: create, start, describe, history, list; a bad definition fails the command with InvalidDefinition', async () => {
    const file = join(scratch, 'machine.asl.json');
    await writeFile(file, JSON.stringify(definition, null, 2));
    const created = await aws('create-state-machine', '--name', 'cli-machine', '--definition', `file://${file}`, '--role-arn', ROLE_ARN);
    expect(created.stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:cli-machine');
    const started = await aws('start-execution', '--state-machine-arn', created.stateMachineArn, '--name', 'from-cli', '--input', '{"action":"echo","via":"cli"}');
    let described;
    for (let i = 0; ; i++) {
      described = await aws('describe-execution', '--execution-arn', started.executionArn);
      if (described.status !== 'RUNNING' || i > 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(described).toMatchObject({ status: 'SUCCEEDED', output: '{"action":"echo","via":"cli"}', name: 'from-cli' });
    const history = await aws('get-execution-history', '--execution-arn', started.executionArn);
    expect(history.events.map((e: { type: string }) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited', 'ExecutionSucceeded']);
    expect((await aws('list-executions', '--state-machine-arn', created.stateMachineArn)).executions).toEqual([expect.objectContaining({ name: 'from-cli', status: 'SUCCEEDED' })]);

    await writeFile(file, JSON.stringify({ StartAt: 'Echo', States: { Echo: { Type: 'Pass', Next: 'Missing' } } }));
    const failure = await run('/usr/bin/aws', ['stepfunctions', 'update-state-machine', '--state-machine-arn', created.stateMachineArn, '--definition', `file://${file}`, '--endpoint-url', stack.url], { env }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(254);
    expect(failure?.stderr).toMatch(/InvalidDefinition.*Missing 'Next' target: Missing at \/States\/Echo\/Next/);
  });

  it('serves boto3 with only the environment (1.43), and Debian boto3 1.26 with endpoint_url; sync executions with inject_host_prefix=False', async () => {
    const script = `
import json, sys, time, boto3
from botocore.config import Config
kwargs = {'endpoint_url': sys.argv[1]} if len(sys.argv) > 1 else {}
suffix = sys.argv[2] if len(sys.argv) > 2 else 'env'
sfn = boto3.client('stepfunctions', **kwargs)
definition = ${JSON.stringify(JSON.stringify(definition))}
arn = sfn.create_state_machine(name='boto-' + suffix, definition=definition, roleArn='${ROLE_ARN}')['stateMachineArn']
execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({'action': 'fail', 'errorType': 'BotoError'}))['executionArn']
while True:
    described = sfn.describe_execution(executionArn=execution)
    if described['status'] != 'RUNNING':
        break
    time.sleep(0.05)
events = [e for page in sfn.get_paginator('get_execution_history').paginate(executionArn=execution, PaginationConfig={'PageSize': 2}) for e in page['events']]
try:
    sfn.create_state_machine(name='bad-' + suffix, definition='{"StartAt": 1}', roleArn='${ROLE_ARN}')
    refused = None
except sfn.exceptions.InvalidDefinition as e:
    refused = e.response['Error']['Code']
express = sfn.create_state_machine(name='express-' + suffix, definition=definition, roleArn='${ROLE_ARN}', type='EXPRESS')['stateMachineArn']
sync = boto3.client('stepfunctions', config=Config(inject_host_prefix=False), **kwargs)
answer = sync.start_sync_execution(stateMachineArn=express, input=json.dumps({'action': 'echo'}))
print(json.dumps({'status': described['status'], 'error': described.get('error'), 'types': [e['type'] for e in events], 'failed': [e.get('taskFailedEventDetails', {}).get('error') for e in events if e['type'] == 'TaskFailed'], 'refused': refused, 'sync': answer['status'], 'syncOutput': answer.get('output')}))
`;
    const expected = {
      status: 'FAILED',
      error: 'BotoError',
      types: ['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskFailed', 'ExecutionFailed'],
      failed: ['BotoError'],
      refused: 'InvalidDefinition',
      sync: 'SUCCEEDED',
      syncOutput: '{"action":"echo"}',
    };
    const modern = JSON.parse((await run('python3', ['-c', script], { env })).stdout);
    expect(modern).toEqual(expected);
    const python = await boto3Python();
    if (python === '/usr/bin/python3') {
      const debian = JSON.parse((await run(python, ['-c', script, stack.url, 'debian'], { env })).stdout);
      expect(debian).toEqual(expected);
    }
  });
});
