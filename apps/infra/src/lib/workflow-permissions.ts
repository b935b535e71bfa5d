import {
  LAMBDA_INVOKE_RESOURCE,
  S3_LIST_OBJECTS_V2_RESOURCE,
  SNS_PUBLISH_RESOURCE,
  type AslDefinition,
  type AslState,
  type AslStateMachine,
} from '@scones/workflow';
import { InfraConfigError } from '../errors';

/** What a definition's Task states call, and so what its state machine's role must be allowed. */
export interface WorkflowPermissions {
  /** `FunctionName`s of `lambda:invoke` tasks (the CDK tokens of the function ARNs). */
  invokedFunctions: string[];
  /** `TopicArn`s of `sns:publish` tasks. */
  publishedTopics: string[];
  /** Whether an `aws-sdk:s3:listObjectsV2` task lists a bucket (named by the execution input). */
  listsBucket: boolean;
}

/**
 * Reads the permissions a definition needs from its Task states, nested Parallel branches and
 * Map processors included, so each role gets what its own definition calls and nothing more. A
 * task this app does not know how to grant fails the synthesis rather than the execution.
 */
export function workflowPermissions(definition: AslDefinition): WorkflowPermissions {
  const permissions = { invokedFunctions: new Set<string>(), publishedTopics: new Set<string>(), listsBucket: false };
  const visit = (machine: AslStateMachine, path: string) => {
    for (const [name, state] of Object.entries(machine.States) as Array<[string, AslState]>) {
      const where = `${path}${name}`;
      if (state.Type === 'Parallel') state.Branches.forEach((branch, i) => visit(branch, `${where}.Branches[${i}].`));
      if (state.Type === 'Map') visit(state.ItemProcessor, `${where}.ItemProcessor.`);
      if (state.Type !== 'Task') continue;
      const parameter = (key: string) => {
        const value = state.Parameters?.[key];
        if (typeof value !== 'string') throw new InfraConfigError(`workflow definition: state "${where}": ${state.Resource} needs a literal Parameters.${key}`);
        return value;
      };
      if (state.Resource === LAMBDA_INVOKE_RESOURCE) permissions.invokedFunctions.add(parameter('FunctionName'));
      else if (state.Resource === SNS_PUBLISH_RESOURCE) permissions.publishedTopics.add(parameter('TopicArn'));
      else if (state.Resource === S3_LIST_OBJECTS_V2_RESOURCE) permissions.listsBucket = true;
      else throw new InfraConfigError(`workflow definition: state "${where}" calls ${state.Resource}, which apps/infra grants no permission for`);
    }
  };
  visit(definition, '');
  return {
    invokedFunctions: [...permissions.invokedFunctions],
    publishedTopics: [...permissions.publishedTopics],
    listsBucket: permissions.listsBucket,
  };
}
