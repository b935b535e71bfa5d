import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DATA_CAPTURE_PREFIX } from '@scones/payload-schemas';

/** The key prefixes of the workflow's bucket (the layout `scones stage/train/deploy/report` writes). */
export const BUCKET_PREFIXES = {
  data: 'data/',
  models: 'models/',
  dataCapture: `${DATA_CAPTURE_PREFIX}/`,
  reports: 'reports/',
} as const;

export interface DataBucketProps {
  /** Days after which captured endpoint traffic (`data_capture/`) expires. */
  captureRetentionDays: number;
  /** Empty and delete the buckets on `cdk destroy` (default: keep them and their data). */
  autoDeleteObjects: boolean;
}

/**
 * The workflow's bucket: images and .lst files (`data/`), model artifacts (`models/`), the
 * endpoint's captured traffic (`data_capture/`) and monitoring reports (`reports/`). Private,
 * encrypted, TLS-only and versioned, with server access logs in a second bucket.
 */
export class DataBucket extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: DataBucketProps) {
    super(scope, id);
    const removal = props.autoDeleteObjects
      ? { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true }
      : { removalPolicy: RemovalPolicy.RETAIN, autoDeleteObjects: false };

    this.accessLogs = new Bucket(this, 'AccessLogs', {
      // S3 server access logging only delivers to SSE-S3 buckets.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
      ...removal,
    });
    // A log bucket that logged its own accesses would log the log deliveries, without end.
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket of the data bucket; logging its own accesses would recurse.',
    });

    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        {
          id: 'expire-data-capture',
          prefix: BUCKET_PREFIXES.dataCapture,
          expiration: Duration.days(props.captureRetentionDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
        // Versioning keeps overwritten/deleted objects; do not keep them forever.
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      ...removal,
    });
  }

  /** ARN pattern of the objects under one prefix, e.g. `arn:aws:s3:::bucket/data/*`. */
  objectsUnder(prefix: keyof typeof BUCKET_PREFIXES): string {
    return this.bucket.arnForObjects(`${BUCKET_PREFIXES[prefix]}*`);
  }

  /** Permission to list the bucket, limited to keys under the given prefixes. */
  listUnder(...prefixes: Array<keyof typeof BUCKET_PREFIXES>): PolicyStatement {
    const patterns = prefixes.map((prefix) => `${BUCKET_PREFIXES[prefix]}*`);
    return new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': patterns.length === 1 ? patterns[0] : patterns } } });
  }
}
