import { type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { buildBatchWorkflowDefinition, buildWorkflowDefinition, workflowResourceNames, type AslDefinition } from '@scones/workflow';
import type { DataBucket } from './data-bucket';
import type { WorkflowFunctions } from './workflow-functions';
import { workflowPermissions } from './workflow-permissions';

export interface ClassificationStateMachinesProps {
  functions: WorkflowFunctions;
  /** The bucket a batch execution may list images of (`s3_prefix` under `data/`). */
  bucket: DataBucket;
  /** Where a failed execution publishes its notification. */
  topic: ITopic;
  /** Map concurrency of the batch machine (the builder's default without it). */
  maxConcurrency?: number;
  logRetention: RetentionDays;
  logRemovalPolicy: RemovalPolicy;
}

/**
 * The two Step Functions state machines, one image and a batch of images, with the very
 * definitions `@scones/workflow` builds for the local runner: the Lambda and topic ARNs go into
 * the builder as CDK tokens and come out of `toJsonString` as `Fn::Join`/`Fn::GetAtt`. Every
 * execution event is logged (with its input and output) and traced with X-Ray.
 */
export class ClassificationStateMachines extends Construct {
  readonly single: StateMachine;
  readonly batch: StateMachine;

  constructor(scope: Construct, id: string, props: ClassificationStateMachinesProps) {
    super(scope, id);
    const functions = {
      serialize: props.functions.serialize.function.functionArn,
      classify: props.functions.classify.function.functionArn,
      filter: props.functions.filter.function.functionArn,
    };
    const notifyTopicArn = props.topic.topicArn;
    this.single = this.stateMachine('Single', 'classify', buildWorkflowDefinition({ functions, notifyTopicArn }), props);
    this.batch = this.stateMachine(
      'Batch',
      'classify-batch',
      buildBatchWorkflowDefinition({ functions, notifyTopicArn, ...(props.maxConcurrency ? { maxConcurrency: props.maxConcurrency } : {}) }),
      props,
    );
  }

  private stateMachine(id: string, name: string, definition: AslDefinition, props: ClassificationStateMachinesProps): StateMachine {
    const stack = Stack.of(this);
    const logs = new LogGroup(this, `${id}Logs`, {
      // The /aws/vendedlogs/ prefix keeps CloudWatch's account-wide log resource policy small.
      logGroupName: `/aws/vendedlogs/states/${stack.stackName}-${name}`,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    const names = workflowResourceNames(stack.stackName).stateMachines;
    const machine = new StateMachine(this, id, {
      stateMachineName: name === 'classify' ? names.single : names.batch,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(stack.toJsonString(definition)),
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    // The definition is a string, so CDK cannot derive the grants from its tasks: read them from the
    // definition itself. Exactly the unqualified function ARNs its tasks invoke, its topic, and
    // listing images under data/ of the workflow bucket when it lists.
    const needs = workflowPermissions(definition);
    if (needs.invokedFunctions.length > 0) {
      machine.addToRolePolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: needs.invokedFunctions }));
    }
    if (needs.publishedTopics.length > 0) machine.addToRolePolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: needs.publishedTopics }));
    if (needs.listsBucket) {
      machine.addToRolePolicy(props.bucket.listUnder('data'));
    }
    Validations.of(machine).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        // Added by CDK for `logs` and `tracingEnabled`.
        reason:
          'X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* and the CloudWatch Logs delivery actions (CreateLogDelivery, ' +
          'PutResourcePolicy, DescribeLogGroups, ...) that Step Functions logging needs do not support resource-level permissions.',
      },
    );
    return machine;
  }
}
