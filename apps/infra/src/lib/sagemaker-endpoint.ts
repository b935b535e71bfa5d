import { ArnFormat, Aws, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnEndpoint, CfnEndpointConfig, CfnModel } from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { DEFAULT_VARIANT } from '@scones/payload-schemas';
import { InfraConfigError } from '../errors';
import { builtinImageClassificationImage } from './builtin-image';
import type { ModelImage } from './config';
import { acknowledgeWildcardResource } from './nag';
import { BUCKET_PREFIXES, type DataBucket } from './data-bucket';

export interface SageMakerEndpointProps {
  bucket: DataBucket;
  endpointName: string;
  /** `s3://bucket/key` of the model artifact (model.tar.gz). */
  modelDataUrl: string;
  image: ModelImage;
  instanceType: string;
  instanceCount: number;
}

/** SageMaker's own namespace for endpoint instance metrics (CPU, memory, disk). */
const ENDPOINT_METRICS_NAMESPACE = '/aws/sagemaker/Endpoints';

/**
 * A real-time SageMaker endpoint for the model artifact, capturing 100 % of its requests and
 * responses to `s3://<bucket>/data_capture` (SageMaker adds `<endpoint>/AllTraffic/yyyy/mm/dd/hh/`),
 * the input of the monitoring report. The image is the built-in image-classification algorithm of
 * the region or, with `modelImage=byoc`, the apps/endpoint container pushed to ECR.
 */
export class SageMakerEndpoint extends Construct {
  readonly role: Role;
  readonly model: CfnModel;
  readonly endpointConfig: CfnEndpointConfig;
  readonly endpoint: CfnEndpoint;
  /** The endpoint's name (resolved at deploy time). */
  readonly endpointName: string;
  /** The endpoint's ARN: the only resource classify may invoke. */
  readonly endpointArn: string;

  constructor(scope: Construct, id: string, props: SageMakerEndpointProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const artifact = parseS3Url(props.modelDataUrl);

    this.role = new Role(this, 'ExecutionRole', {
      assumedBy: new ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'Scones SageMaker endpoint: reads its model artifact, writes captured traffic, logs and metrics',
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: [`arn:${Aws.PARTITION}:s3:::${artifact.bucket}/${artifact.key}`] }),
    );
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [props.bucket.objectsUnder('dataCapture')] }));
    const logGroupArn = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `/aws/sagemaker/Endpoints/${props.endpointName}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [logGroupArn, `${logGroupArn}:*`],
      }),
    );
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': ENDPOINT_METRICS_NAMESPACE } },
      }),
    );
    acknowledgeWildcardResource(this.role, `${logGroupArn}:*`, "The log streams of the endpoint's own log group; SageMaker names them per instance at run time.");
    acknowledgeWildcardResource(
      this.role,
      props.bucket.objectsUnder('dataCapture'),
      'SageMaker writes captured traffic to new keys under data_capture/ (endpoint, variant, date, uuid); the prefix is the narrowest scope.',
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `cloudwatch:PutMetricData (limited to the ${ENDPOINT_METRICS_NAMESPACE} namespace by condition) and, for modelImage=byoc, ecr:GetAuthorizationToken do not support resource-level permissions.`,
    });

    let image: string;
    if (props.image.kind === 'byoc') {
      image = props.image.imageUri;
      const repository = parseEcrImage(props.image.imageUri);
      this.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
          resources: [`arn:${repository.partition}:ecr:${repository.region}:${repository.account}:repository/${repository.name}`],
        }),
      );
      this.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    } else {
      image = builtinImageClassificationImage(this);
    }

    this.model = new CfnModel(this, 'Model', {
      executionRoleArn: this.role.roleArn,
      primaryContainer: { image, modelDataUrl: props.modelDataUrl, mode: 'SingleModel' },
    });
    // SageMaker checks the role's permissions when it creates the model.
    this.model.node.addDependency(this.role);

    this.endpointConfig = new CfnEndpointConfig(this, 'EndpointConfig', {
      productionVariants: [
        {
          variantName: DEFAULT_VARIANT,
          modelName: this.model.attrModelName,
          initialInstanceCount: props.instanceCount,
          instanceType: props.instanceType,
          initialVariantWeight: 1,
        },
      ],
      dataCaptureConfig: {
        enableCapture: true,
        initialSamplingPercentage: 100,
        destinationS3Uri: `s3://${props.bucket.bucket.bucketName}/${BUCKET_PREFIXES.dataCapture.replace(/\/$/, '')}`,
        captureOptions: [{ captureMode: 'Input' }, { captureMode: 'Output' }],
        // The endpoint answers application/json: capture it as JSON text (the Model Monitor record's
        // "encoding": "JSON"); the PNG input is captured base64-encoded.
        captureContentTypeHeader: { jsonContentTypes: ['application/json'] },
      },
    });

    this.endpoint = new CfnEndpoint(this, 'Endpoint', {
      endpointName: props.endpointName,
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
    });
    this.endpointName = this.endpoint.attrEndpointName;
    this.endpointArn = this.endpoint.ref;

    Validations.of(this.model).acknowledge({
      id: 'AwsSolutions-SM1',
      reason: 'The model container needs no network access to private resources; its artifact comes from S3 through SageMaker. A VPC would add NAT/endpoint cost for no gain.',
    });
    Validations.of(this.endpointConfig).acknowledge({
      id: 'AwsSolutions-SM2',
      reason: 'SageMaker encrypts the ML storage volume with an AWS managed key by default; a customer managed key would add cost and key administration without changing who can read it in this single-account stack.',
    });
  }
}

export function parseS3Url(url: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match) throw new InfraConfigError(`modelDataUrl: ${JSON.stringify(url)} is not an S3 URL (s3://bucket/key)`);
  return { bucket: match[1], key: match[2] };
}

export function parseEcrImage(uri: string): { partition: string; account: string; region: string; name: string } {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([^:@]+)/.exec(uri);
  if (!match) throw new InfraConfigError(`byocImageUri: ${JSON.stringify(uri)} is not an ECR image URI`);
  return { partition: match[3] ? 'aws-cn' : 'aws', account: match[1], region: match[2], name: match[4] };
}
