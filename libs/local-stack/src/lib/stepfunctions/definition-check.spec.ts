import { CreateStateMachineCommand, UpdateStateMachineCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { buildBatchWorkflowDefinition, buildWorkflowDefinition } from '@scones/workflow';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestStack } from '../../testing';
import { ROLE_ARN, sfnClient, startStatesStack } from './testing';

jest.setTimeout(120_000);

const pass = { Type: 'Pass', End: true };
const task = (Resource: string, extra: Record<string, unknown> = {}) => ({ Type: 'Task', Resource, End: true, ...extra });

describe('CreateStateMachine checks the definition', () => {
  let stack: TestStack;
  let sfn: SFNClient;
  let n = 0;
  beforeAll(async () => {
    stack = await startStatesStack({ services: ['sns', 'lambda', 'states'] });
    sfn = sfnClient(stack);
  });
  afterAll(async () => {
    sfn.destroy();
    await stack.dispose();
  });

  const create = (definition: unknown) => sfn.send(new CreateStateMachineCommand({ name: `check-${++n}`, definition: typeof definition === 'string' ? definition : JSON.stringify(definition), roleArn: ROLE_ARN }));
  const refused = (definition: unknown, ...messages: Array<string | RegExp>) =>
    expect(create(definition)).rejects.toMatchObject({ name: 'InvalidDefinition', message: expect.stringMatching(new RegExp(messages.map((m) => (typeof m === 'string' ? m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : m.source)).join('.*'))) });

  it('refuses what is not JSON or not a state machine', async () => {
    await refused('{"StartAt": "A", "States": {', "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: the definition is not JSON");
    await refused([1, 2], 'SCHEMA_VALIDATION_FAILED: a state machine definition is a JSON object', 'not an array');
    await refused({ Comment: 'no states' }, 'SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt, States] at /');
    await refused({ StartAt: 'A', States: {} }, '"States" must be an object with at least one state at /States');
  });

  it('names the state and the field of a structural error', async () => {
    await refused({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' } } }, `MISSING_TRANSITION_TARGET: State "A": Missing 'Next' target: B at /States/A/Next`);
    await refused({ StartAt: 'Z', States: { A: pass } }, "MISSING_TRANSITION_TARGET: Missing 'StartAt' target: Z at /StartAt");
    await refused({ StartAt: 'A', States: { A: { Type: 'Task', End: true } } }, 'State "A": a Task state needs "Resource"', 'at /States/A/Resource');
    await refused({ StartAt: 'A', States: { A: { Type: 'Wizard', End: true } } }, 'State "A": "Type" must be one of Task, Pass', 'at /States/A/Type');
    await refused({ StartAt: 'A', States: { A: { Type: 'Pass', Foo: 1, End: true } } }, 'State "A": the field "Foo" is not supported by Step Functions for a Pass state at /States/A/Foo');
    await refused(
      { StartAt: 'M', States: { M: { Type: 'Map', ItemProcessor: { StartAt: 'X', States: { X: { Type: 'Pass', Next: 'Y' } } }, End: true } } },
      `State "X": Missing 'Next' target: Y at /States/M/ItemProcessor/States/X/Next`,
    );
    await refused({ StartAt: 'C', States: { C: { Type: 'Choice', Choices: [{ Variable: '$.x', IsPresent: true, Next: 'Nowhere' }] } } }, `State "C": Missing 'Next' target: Nowhere at /States/C/Choices/0/Next`);
    await refused({ StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: {}, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Gone' }], End: true } } }, "Missing 'Next' target: Gone at /States/A/Catch/0/Next");
  });

  it('refuses an integration without the parameters it needs', async () => {
    await refused({ StartAt: 'Invoke', States: { Invoke: task('arn:aws:states:::lambda:invoke', { Parameters: { Payload: {} } }) } }, 'State "Invoke": the field "FunctionName" is required but was missing', 'at /States/Invoke/Parameters');
    await refused({ StartAt: 'Notify', States: { Notify: task('arn:aws:states:::sns:publish', { Parameters: { TopicArn: 'arn:aws:sns:us-east-1:000000000000:t' } }) } }, 'State "Notify": the field "Message" is required');
  });

  it("passes asl-validator's findings on, naming the state", async () => {
    await refused({ StartAt: 'A', States: { A: { Type: 'Pass', InputPath: 'not a path', End: true } } }, 'SCHEMA_VALIDATION_FAILED: State "A": must match format "asl_path" at /States/A/InputPath');
    await refused({ StartAt: 'A', States: { A: pass, B: pass } }, 'State B is not reachable');
  });

  it('refuses JSONata, naming the first state that needs it', async () => {
    await refused({ QueryLanguage: 'JSONata', StartAt: 'First', States: { First: { Type: 'Pass', Output: '{% $states.input %}', End: true } } }, 'UNSUPPORTED_BY_LOCAL_STACK: "QueryLanguage": "JSONata" makes state "First"', 'JSONPath only', 'at /QueryLanguage');
    await refused({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', QueryLanguage: 'JSONata', End: true } } }, 'State "B": sets "QueryLanguage": "JSONata"', 'at /States/B/QueryLanguage');
    await refused({ StartAt: 'A', States: { A: task('arn:aws:states:::lambda:invoke', { Arguments: { FunctionName: 'f' } }) } }, 'State "A": "Arguments" is a JSONata field', 'at /States/A/Arguments');
    await refused({ StartAt: 'C', States: { C: { Type: 'Choice', Choices: [{ Condition: '{% true %}', Next: 'C' }], Default: 'C' } } }, 'State "C": a Choice rule with "Condition" is JSONata', 'at /States/C/Choices/0/Condition');
  });

  it('refuses variables, distributed Maps and Task resources the stack cannot serve', async () => {
    await refused({ StartAt: 'A', States: { A: { Type: 'Pass', Assign: { x: 1 }, End: true } } }, 'State "A": workflow variables ("Assign") are not supported', 'at /States/A/Assign');
    await refused({ StartAt: 'A', States: { A: { Type: 'Pass', Parameters: { 'v.$': '$counter' }, End: true } } }, 'State "A": $counter refers to a workflow variable', 'at /States/A/Parameters/v.$');
    await refused(
      { StartAt: 'M', States: { M: { Type: 'Map', ItemReader: { Resource: 'arn:aws:states:::s3:getObject', Parameters: { Bucket: 'b', Key: 'k' } }, ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'P', States: { P: pass } }, End: true } } },
      'State "M": a distributed Map ("ItemReader") is not supported by the local stack',
      'State "M": a distributed Map ("Mode": "DISTRIBUTED")',
    );
    await refused({ StartAt: 'Put', States: { Put: task('arn:aws:states:::dynamodb:putItem', { Parameters: { TableName: 't', Item: {} } }) } }, 'State "Put": arn:aws:states:::dynamodb:putItem is not served by the local stack; the stack serves arn:aws:states:::lambda:invoke', 'at /States/Put/Resource');
    await refused({ StartAt: 'Cb', States: { Cb: task('arn:aws:states:::lambda:invoke.waitForTaskToken', { Parameters: { FunctionName: 'f' } }) } }, 'State "Cb": the callback pattern');
    await refused({ StartAt: 'Act', States: { Act: task('arn:aws:states:us-east-1:123456789012:activity:work') } }, 'State "Act": activities');
    await refused({ StartAt: 'Sdk', States: { Sdk: task('arn:aws:states:::aws-sdk:s3:getObject', { Parameters: { Bucket: 'b', Key: 'k' } }) } }, 'State "Sdk": arn:aws:states:::aws-sdk:s3:getObject is not served');
    // The stack of this test runs without S3: the listing the batch definition uses is refused by that reason.
    await refused({ StartAt: 'List', States: { List: task('arn:aws:states:::aws-sdk:s3:listObjectsV2', { Parameters: { Bucket: 'b' } }) } }, "State \"List\": arn:aws:states:::aws-sdk:s3:listObjectsV2 needs the stack's s3 service, and this stack runs without it");
  });

  it('refuses a bad definition in UpdateStateMachine too, and keeps the old one', async () => {
    const { stateMachineArn } = await create({ StartAt: 'A', States: { A: pass } });
    await expect(sfn.send(new UpdateStateMachineCommand({ stateMachineArn, definition: JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Gone' } } }) }))).rejects.toMatchObject({
      name: 'InvalidDefinition',
      message: expect.stringContaining("Missing 'Next' target: Gone"),
    });
  });

  it("accepts the project's definitions, as built and as exported (placeholders substituted)", async () => {
    const functions = { serialize: 'arn:aws:lambda:us-east-1:000000000000:function:serialize-lambda', classify: 'classify-lambda', filter: 'arn:aws:lambda:us-east-1:000000000000:function:filter-lambda:$LATEST' };
    const notifyTopicArn = 'arn:aws:sns:us-east-1:000000000000:scones-workflow-failures';
    await create(buildWorkflowDefinition({ functions, notifyTopicArn }));
    const exported = readFileSync(join(__dirname, '../../../../workflow/definitions/workflow.asl.json'), 'utf8')
      .replaceAll('${SerializeFunctionArn}', functions.serialize)
      .replaceAll('${ClassifyFunctionArn}', functions.classify)
      .replaceAll('${FilterFunctionArn}', functions.filter)
      .replaceAll('${NotifyTopicArn}', notifyTopicArn);
    await create(exported);
    // The batch definition lists S3, which this stack does not run.
    await refused(buildBatchWorkflowDefinition({ functions, notifyTopicArn }), 'State "List images"', "needs the stack's s3 service");
  });
});
