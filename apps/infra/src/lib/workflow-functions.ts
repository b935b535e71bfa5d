import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DataBucket } from './data-bucket';
import { acknowledgeWildcardResource } from './nag';
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

    this.serialize = new SconesFunction(this, 'Serialize', {
      ...common,
      project: 'serialize-lambda',
      description: 'Scones workflow step 1: reads the image {s3_bucket, s3_key} and returns it base64-encoded',
      // Reads and base64-encodes one small image; the memory mostly buys CPU for the SDK's cold start.
      memorySize: 256,
      timeout: Duration.seconds(15),
    });
    const images = props.bucket.objectsUnder('data');
    this.serialize.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [images] }));
    acknowledgeWildcardResource(this.serialize.role, images, 'serialize reads whichever image under data/ the execution names; the prefix is the narrowest scope.');
    // Without ListBucket, S3 answers a missing key with 403 AccessDenied, and the workflow would
    // report a permissions problem instead of ImageNotFound. Scoped to keys under data/.
    this.serialize.role.addToPrincipalPolicy(props.bucket.listUnder('data'));

    this.classify = new SconesFunction(this, 'Classify', {
      ...common,
      project: 'classify-lambda',
      description: 'Scones workflow step 2: sends the image to the SageMaker endpoint and returns its class probabilities',
      memorySize: 256,
      // Waits for the endpoint (SageMaker's own invocation timeout is 60 s); transient errors are retried by the state machine.
      timeout: Duration.seconds(60),
      environment: { ENDPOINT_NAME: props.endpointName },
    });
    this.classify.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['sagemaker:InvokeEndpoint'], resources: [props.endpointArn] }));

    this.filter = new SconesFunction(this, 'Filter', {
      ...common,
      project: 'filter-lambda',
      description: 'Scones workflow step 3: fails with THRESHOLD_CONFIDENCE_NOT_MET below THRESHOLD',
      memorySize: 128,
      timeout: Duration.seconds(10),
      environment: { THRESHOLD: String(props.threshold) },
    });
  }

  /** The three functions in workflow order, for grants. */
  all(): IFunction[] {
    return [this.serialize.function, this.classify.function, this.filter.function];
  }
}
