import { Duration, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DataBucket } from './data-bucket';
import { acknowledgeWildcardResource } from './nag';
import { WORKFLOW_FUNCTION_SETTINGS, workflowResourceNames } from '@scones/workflow';
import { SconesFunction } from './scones-function';

export interface WorkflowFunctionsProps {
  workspaceRoot: string;
  bucket: DataBucket;
  /** Name of the SageMaker endpoint classify invokes (ENDPOINT_NAME). */
  endpointName: string;
  /** ARN of that endpoint: the only resource classify may invoke. */
  endpointArn: string;
  /** The filter's minimum top-class probability (THRESHOLD). */
  threshold: number;
  logRetention: RetentionDays;
  logRemovalPolicy: RemovalPolicy;
}

/**
 * The workflow's three Lambda functions, each with exactly the permission its step needs:
 * serialize reads images under `data/`, classify invokes the one endpoint, filter only logs.
 */
export class WorkflowFunctions extends Construct {
  readonly serialize: SconesFunction;
  readonly classify: SconesFunction;
  readonly filter: SconesFunction;

  constructor(scope: Construct, id: string, props: WorkflowFunctionsProps) {
    super(scope, id);
    const common = { workspaceRoot: props.workspaceRoot, logRetention: props.logRetention, logRemovalPolicy: props.logRemovalPolicy };
    // The names and settings the local stack gives the same functions (one source: @scones/workflow).
    const names = workflowResourceNames(Stack.of(this).stackName).functions;
    const settings = (step: keyof typeof WORKFLOW_FUNCTION_SETTINGS) => {
      const s = WORKFLOW_FUNCTION_SETTINGS[step];
      return { project: s.app, functionName: names[step], description: s.description, memorySize: s.memorySize, timeout: Duration.seconds(s.timeoutSeconds) };
    };

    this.serialize = new SconesFunction(this, 'Serialize', {
      ...common,
      ...settings('serialize'),
    });
    const images = props.bucket.objectsUnder('data');
    this.serialize.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [images] }));
    acknowledgeWildcardResource(this.serialize.role, images, 'serialize reads whichever image under data/ the execution names; the prefix is the narrowest scope.');
    // Without ListBucket, S3 answers a missing key with 403 AccessDenied, and the workflow would
    // report a permissions problem instead of ImageNotFound. Scoped to keys under data/.
    this.serialize.role.addToPrincipalPolicy(props.bucket.listUnder('data'));

    this.classify = new SconesFunction(this, 'Classify', {
      ...common,
      ...settings('classify'),
      environment: { ENDPOINT_NAME: props.endpointName },
    });
    this.classify.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['sagemaker:InvokeEndpoint'], resources: [props.endpointArn] }));

    this.filter = new SconesFunction(this, 'Filter', {
      ...common,
      ...settings('filter'),
      environment: { THRESHOLD: String(props.threshold) },
    });
  }

  /** The three functions in workflow order, for grants. */
  all(): IFunction[] {
    return [this.serialize.function, this.classify.function, this.filter.function];
  }
}
