import { Match } from 'aws-cdk-lib/assertions';
import { synthesize } from '../../test/synth';

describe('DataBucket', () => {
  const retained = synthesize({ captureRetentionDays: '14' });
  const dataBucket = retained.stack.data;

  it('is encrypted, private, ACL-free, versioned and logs accesses to the log bucket', () => {
    expect(retained.template.findResources('AWS::S3::Bucket')[retained.id(dataBucket.bucket)]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: { DestinationBucketName: { Ref: retained.id(dataBucket.accessLogs) }, LogFilePrefix: 'data-bucket/' },
      },
    });
  });

  it('expires captured traffic under data_capture/ after captureRetentionDays, and old versions', () => {
    const bucket = retained.template.findResources('AWS::S3::Bucket')[retained.id(dataBucket.bucket)];
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'expire-data-capture', Prefix: 'data_capture/', ExpirationInDays: 14, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' },
      {
        Id: 'expire-noncurrent-versions',
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
        Status: 'Enabled',
      },
    ]);
  });

  it('denies every request without TLS, on the bucket and its objects', () => {
    const bucketArn = { 'Fn::GetAtt': [retained.id(dataBucket.bucket), 'Arn'] };
    retained.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: retained.id(dataBucket.bucket) },
      PolicyDocument: {
        Statement: [
          {
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/*']] }],
          },
        ],
        Version: '2012-10-17',
      },
    });
  });

  it('has a private, encrypted, TLS-only access log bucket that S3 log delivery may write to', () => {
    const logs = retained.id(dataBucket.accessLogs);
    expect(retained.template.findResources('AWS::S3::Bucket')[logs]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: { Rules: [{ Id: 'expire-access-logs', ExpirationInDays: 90, Status: 'Enabled' }] },
      },
    });
    retained.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logs },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Action: 's3:PutObject', Principal: { Service: 'logging.s3.amazonaws.com' } }),
        ]),
      },
    });
  });

  it('keeps both buckets on `cdk destroy` by default, and empties and deletes them with autoDeleteData=true', () => {
    expect(retained.template.findResources('Custom::S3AutoDeleteObjects')).toEqual({});
    const deleted = synthesize({ autoDeleteData: 'true' });
    const buckets = deleted.template.findResources('AWS::S3::Bucket');
    for (const bucket of [deleted.stack.data.bucket, deleted.stack.data.accessLogs]) {
      expect(buckets[deleted.id(bucket)]).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
      deleted.template.hasResourceProperties('Custom::S3AutoDeleteObjects', { BucketName: { Ref: deleted.id(bucket) } });
    }
  });
});
