import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateStateMachineCommand, DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, ListStateMachinesCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { TestStack } from '../../testing';
import { STACK_STOPPED } from './stepfunctions-service';
import { ROLE_ARN, TOOLBOX_JS, createFunction, sfnClient, startStatesStack, waitForEnd } from './testing';

jest.setTimeout(180_000);

const definition = JSON.stringify({
  StartAt: 'Work',
  States: { Work: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'toolbox', 'Payload.$': '$' }, OutputPath: '$.Payload', End: true } },
});

async function untilTaskStarted(sfn: SFNClient, executionArn: string): Promise<void> {
  for (let i = 0; i < 4000; i++) {
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    if (events?.some((e) => e.type === 'TaskStarted')) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${executionArn}: the task never started`);
}

describe('Step Functions state across down/up', () => {
  const dirs: string[] = [];
  const tempDir = async (prefix: string) => {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('keeps state machines, executions and histories; an execution running at `down` ends ABORTED', async () => {
    const dataDir = await tempDir('sfn-persist-');
    let stack: TestStack = await startStatesStack({ dataDir });
    let sfn = sfnClient(stack);
    await createFunction(stack, 'toolbox', { 'index.js': TOOLBOX_JS });
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'durable', definition, roleArn: ROLE_ARN }));
    const done = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'done', input: '{"action":"echo","v":1}' }));
    await waitForEnd(sfn, done.executionArn!);
    const doneHistory = (await sfn.send(new GetExecutionHistoryCommand({ executionArn: done.executionArn }))).events;
    const running = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'running', input: '{"action":"wait","ms":60000}' }));
    await untilTaskStarted(sfn, running.executionArn!);
    sfn.destroy();
    await stack.dispose();

    stack = await startStatesStack({ dataDir });
    sfn = sfnClient(stack);
    try {
      expect((await sfn.send(new ListStateMachinesCommand({}))).stateMachines?.map((m) => m.stateMachineArn)).toEqual([stateMachineArn]);
      expect(await sfn.send(new DescribeExecutionCommand({ executionArn: done.executionArn }))).toMatchObject({ status: 'SUCCEEDED', output: '{"action":"echo","v":1}' });
      expect((await sfn.send(new GetExecutionHistoryCommand({ executionArn: done.executionArn }))).events).toEqual(doneHistory);
      const aborted = await sfn.send(new DescribeExecutionCommand({ executionArn: running.executionArn }));
      expect(aborted).toMatchObject({ status: 'ABORTED', ...STACK_STOPPED, stopDate: expect.any(Date) });
      const events = (await sfn.send(new GetExecutionHistoryCommand({ executionArn: running.executionArn }))).events!;
      expect(events.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'ExecutionAborted']);
      expect(events.at(-1)!.executionAbortedEventDetails).toEqual(STACK_STOPPED);
      expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'ABORTED' }))).executions?.map((e) => e.name)).toEqual(['running']);
      // The machine still runs (the function is the Lambda service's, kept too).
      const again = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{"action":"echo","v":2}' }));
      expect(await waitForEnd(sfn, again.executionArn!)).toMatchObject({ status: 'SUCCEEDED', output: '{"action":"echo","v":2}' });
    } finally {
      sfn.destroy();
      await stack.dispose();
    }
  });

  it('marks an execution RUNNING in the data of a stack that died ABORTED, after its last recorded event', async () => {
    const first = await tempDir('sfn-crash-a-');
    const stack = await startStatesStack({ dataDir: first });
    const sfn = sfnClient(stack);
    const crashed = await tempDir('sfn-crash-b-');
    let executionArn: string;
    try {
      await createFunction(stack, 'toolbox', { 'index.js': TOOLBOX_JS });
      const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'crashing', definition, roleArn: ROLE_ARN }));
      executionArn = (await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{"action":"wait","ms":60000}' }))).executionArn!;
      await untilTaskStarted(sfn, executionArn);
      // What a killed stack leaves: its Step Functions data as it is while the execution runs.
      const histories = join(first, 'stepfunctions', 'histories');
      for (let i = 0; !(await readdir(histories).then((files) => Promise.all(files.map((f) => readFile(join(histories, f), 'utf8'))))).some((text) => text.includes('"TaskStarted"')); i++) {
        if (i > 2000) throw new Error('the history never reached the disk');
        await new Promise((r) => setTimeout(r, 10));
      }
      await cp(join(first, 'stepfunctions'), join(crashed, 'stepfunctions'), { recursive: true });
    } finally {
      sfn.destroy();
      await stack.dispose();
    }
    const revived = await startStatesStack({ dataDir: crashed, services: ['states'] });
    const client = sfnClient(revived);
    try {
      expect(await client.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'ABORTED', error: STACK_STOPPED.error });
      const events = (await client.send(new GetExecutionHistoryCommand({ executionArn }))).events!;
      expect(events.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'ExecutionAborted']);
      expect(events.at(-1)).toMatchObject({ id: 5, previousEventId: 4 });
    } finally {
      client.destroy();
      await revived.dispose();
    }
  });
});
