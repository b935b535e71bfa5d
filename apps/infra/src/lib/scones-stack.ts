import { ArnFormat, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { STACK_OUTPUT_KEYS, stackExportName, type StackOutputName } from '@scones/local-cloud';
import { ClassificationStateMachines } from './classification-state-machines';
import type { SconesConfig } from './config';
import { DataBucket } from './data-bucket';
import { FailureNotifications } from './failure-notifications';
import { SageMakerEndpoint } from './sagemaker-endpoint';
import { ScheduledReport } from './scheduled-report';
import { WorkflowFunctions } from './workflow-functions';

export interface SconesStackProps extends StackProps {
  config: SconesConfig;
  /** The Nx workspace root: the Lambda apps are bundled from it. */
  workspaceRoot: string;
}

/**
 * The whole Scones workflow on AWS: the data bucket, the three Lambdas, the single-image and batch
 * state machines, failure notifications, optionally the SageMaker endpoint (with data capture) and
 * the scheduled monitoring report. Its outputs are what `scones --stack <name>` reads.
 */
export class SconesStack extends Stack {
  readonly data: DataBucket;
  readonly notifications: FailureNotifications;
  readonly endpoint?: SageMakerEndpoint;
  readonly functions: WorkflowFunctions;
  readonly stateMachines: ClassificationStateMachines;
  readonly report?: ScheduledReport;

  constructor(scope: Construct, id: string, props: SconesStackProps) {
    super(scope, id, {
      description: 'Scones Unlimited: image-classification workflow (S3, Lambda, Step Functions, SageMaker endpoint with data capture)',
      ...props,
    });
    const { config, workspaceRoot } = props;
    const logRetention = config.logRetentionDays as RetentionDays;
    const logRemovalPolicy = config.autoDeleteData ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.data = new DataBucket(this, 'Data', { captureRetentionDays: config.captureRetentionDays, autoDeleteObjects: config.autoDeleteData });
    this.notifications = new FailureNotifications(this, 'FailureNotifications', { email: config.notificationEmail });

    let endpointName: string;
    let endpointArn: string;
    if (config.endpoint.kind === 'managed') {
      this.endpoint = new SageMakerEndpoint(this, 'SageMaker', { bucket: this.data, ...config.endpoint });
      endpointName = this.endpoint.endpointName;
      endpointArn = this.endpoint.endpointArn;
    } else {
      endpointName = config.endpoint.endpointName;
      // SageMaker keeps endpoint ARNs in lower case, and IAM compares them as given.
      endpointArn = this.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: endpointName.toLowerCase(), arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    }

    this.functions = new WorkflowFunctions(this, 'Functions', {
      workspaceRoot,
      bucket: this.data,
      endpointName,
      endpointArn,
      threshold: config.threshold.value,
      logRetention,
      logRemovalPolicy,
    });
    this.stateMachines = new ClassificationStateMachines(this, 'StateMachines', {
      functions: this.functions,
      bucket: this.data,
      topic: this.notifications.topic,
      maxConcurrency: config.maxConcurrency,
      logRetention,
      logRemovalPolicy,
    });
    if (config.reportSchedule) {
      this.report = new ScheduledReport(this, 'Report', {
        workspaceRoot,
        bucket: this.data,
        endpointName,
        schedule: config.reportSchedule,
        logRetention,
        logRemovalPolicy,
      });
    }

    const outputs: Record<StackOutputName, { value: string; description: string }> = {
      bucketName: { value: this.data.bucket.bucketName, description: 'The workflow bucket (data/, models/, data_capture/, reports/)' },
      stateMachineArn: { value: this.stateMachines.single.stateMachineArn, description: 'State machine classifying one image {s3_bucket, s3_key}' },
      batchStateMachineArn: { value: this.stateMachines.batch.stateMachineArn, description: 'State machine classifying a batch of images' },
      endpointName: { value: endpointName, description: 'SageMaker endpoint the classify Lambda invokes' },
      topicArn: { value: this.notifications.topic.topicArn, description: 'SNS topic receiving failed executions' },
    };
    for (const [name, { value, description }] of Object.entries(outputs) as Array<[StackOutputName, { value: string; description: string }]>) {
      // Declared on the stack itself so the logical id, and thus the output key, is exactly the key.
      new CfnOutput(this, STACK_OUTPUT_KEYS[name], { value, description, exportName: stackExportName(this.stackName, name) });
    }
  }
}
