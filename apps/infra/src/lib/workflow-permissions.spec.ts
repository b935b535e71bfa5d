import { buildBatchWorkflowDefinition, buildWorkflowDefinition, type AslDefinition } from '@scones/workflow';
import { workflowPermissions } from './workflow-permissions';

const options = { functions: { serialize: 'arn:serialize', classify: 'arn:classify', filter: 'arn:filter' }, notifyTopicArn: 'arn:topic' };

describe('workflowPermissions', () => {
  it('reads the invoked functions and the failure topic of the single-image definition', () => {
    expect(workflowPermissions(buildWorkflowDefinition(options))).toEqual({
      invokedFunctions: ['arn:serialize', 'arn:classify', 'arn:filter'],
      publishedTopics: ['arn:topic'],
      listsBucket: false,
    });
  });

  it('finds the tasks nested in the batch definition (Map, then Parallel), its topic and its bucket listing', () => {
    expect(workflowPermissions(buildBatchWorkflowDefinition(options))).toEqual({
      invokedFunctions: ['arn:serialize', 'arn:classify', 'arn:filter'],
      publishedTopics: ['arn:topic'],
      listsBucket: true,
    });
  });

  it('refuses a task it cannot grant, naming the state', () => {
    const definition = {
      StartAt: 'Put',
      States: { Put: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', Parameters: {}, End: true } },
    } as AslDefinition;
    expect(() => workflowPermissions(definition)).toThrow('workflow definition: state "Put" calls arn:aws:states:::dynamodb:putItem, which apps/infra grants no permission for');
    const dynamicFunction = {
      StartAt: 'Call',
      States: { Call: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { 'FunctionName.$': '$.fn' }, End: true } },
    } as AslDefinition;
    expect(() => workflowPermissions(dynamicFunction)).toThrow('state "Call": arn:aws:states:::lambda:invoke needs a literal Parameters.FunctionName');
  });
});
