import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { StepFunctionsError } from '../errors';
import type { Clock } from './clock';
import { StepFunctionsExecutor } from './step-functions-executor';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:SconesStack-classify';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:SconesStack-classify:run-1';
const INPUT = { image_data: '', s3_bucket: 'scones-data', s3_key: 'data/test/bicycle_s_000513.png' };

/** Sleeps take no time; the waits asked for are recorded. */
function instantClock(): Clock & { waits: number[] } {
  const waits: number[] = [];
  return { waits, now: () => 0, sleep: async (ms) => void waits.push(ms) };
}

describe('StepFunctionsExecutor', () => {
  const sfn = mockClient(SFNClient);
  beforeEach(() => sfn.reset());

  it('starts the execution with exactly the input and name, polls until it ends and returns its output', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date('2024-05-01T10:00:00Z') });
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING', executionArn: EXECUTION, startDate: new Date('2024-05-01T10:00:00Z') })
      .resolvesOnce({ status: 'RUNNING', executionArn: EXECUTION, startDate: new Date('2024-05-01T10:00:00Z') })
      .resolves({
        status: 'SUCCEEDED',
        executionArn: EXECUTION,
        startDate: new Date('2024-05-01T10:00:00.000Z'),
        stopDate: new Date('2024-05-01T10:00:02.800Z'),
        output: JSON.stringify({ statusCode: 200, body: { ...INPUT, inferences: [0.9, 0.1] } }),
      });
    const clock = instantClock();
    const executor = new StepFunctionsExecutor({ client: new SFNClient({ region: 'eu-west-1' }), stateMachineArn: MACHINE, clock });
    const outcome = await executor.execute(INPUT, { name: 'run-1' });

    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([{ stateMachineArn: MACHINE, name: 'run-1', input: JSON.stringify(INPUT) }]);
    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: EXECUTION }, { executionArn: EXECUTION }, { executionArn: EXECUTION }]);
    expect(clock.waits).toEqual([200, 300, 450]);
    expect(outcome).toEqual({
      executionArn: EXECUTION,
      name: 'run-1',
      status: 'SUCCEEDED',
      input: INPUT,
      output: { statusCode: 200, body: { ...INPUT, inferences: [0.9, 0.1] } },
      startDate: '2024-05-01T10:00:00.000Z',
      stopDate: '2024-05-01T10:00:02.800Z',
      durationMs: 2800,
    });
  });

  it('returns the error and cause of a failed execution', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION });
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      executionArn: EXECUTION,
      startDate: new Date(0),
      stopDate: new Date(1500),
      error: 'THRESHOLD_CONFIDENCE_NOT_MET',
      cause: '{"errorType":"THRESHOLD_CONFIDENCE_NOT_MET","errorMessage":"THRESHOLD_CONFIDENCE_NOT_MET","trace":[]}',
    });
    const outcome = await new StepFunctionsExecutor({ client: new SFNClient({ region: 'eu-west-1' }), stateMachineArn: MACHINE, clock: instantClock() }).execute(INPUT);
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'THRESHOLD_CONFIDENCE_NOT_MET', durationMs: 1500 });
    expect(JSON.parse(outcome.cause!).errorType).toBe('THRESHOLD_CONFIDENCE_NOT_MET');
    // A generated name: a UUID, valid as an execution name.
    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.name).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('caps the poll interval', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION });
    const running = { status: 'RUNNING' as const, executionArn: EXECUTION, startDate: new Date(0) };
    sfn.on(DescribeExecutionCommand).resolvesOnce(running).resolvesOnce(running).resolvesOnce(running).resolves({ status: 'ABORTED', executionArn: EXECUTION, startDate: new Date(0), stopDate: new Date(10) });
    const clock = instantClock();
    const outcome = await new StepFunctionsExecutor({ client: new SFNClient({ region: 'eu-west-1' }), stateMachineArn: MACHINE, clock, pollIntervalMs: 400, maxPollIntervalMs: 700 }).execute(INPUT);
    expect(outcome.status).toBe('ABORTED');
    expect(clock.waits).toEqual([400, 600, 700, 700]);
  });

  it('names the state machine and the service error when StartExecution fails', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }));
    const executor = new StepFunctionsExecutor({ client: new SFNClient({ region: 'eu-west-1' }), stateMachineArn: MACHINE, clock: instantClock() });
    const failure = executor.execute(INPUT);
    await expect(failure).rejects.toThrow(StepFunctionsError);
    await expect(executor.execute(INPUT)).rejects.toThrow(`StartExecution of ${MACHINE}: StateMachineDoesNotExist: State Machine Does Not Exist`);
  });

  it('names the execution when DescribeExecution fails', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION });
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const executor = new StepFunctionsExecutor({ client: new SFNClient({ region: 'eu-west-1' }), stateMachineArn: MACHINE, clock: instantClock() });
    await expect(executor.execute(INPUT)).rejects.toThrow(`DescribeExecution of ${EXECUTION}: ThrottlingException: Rate exceeded`);
  });

  it('stops waiting when the signal aborts', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', executionArn: EXECUTION, startDate: new Date(0) });
    const controller = new AbortController();
    const clock: Clock = { now: () => 0, sleep: async () => controller.abort(new Error('stop')) };
    const executor = new StepFunctionsExecutor({ client: new SFNClient({ region: 'eu-west-1' }), stateMachineArn: MACHINE, clock });
    await expect(executor.execute(INPUT, { signal: controller.signal })).rejects.toThrow('stop');
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });
});
