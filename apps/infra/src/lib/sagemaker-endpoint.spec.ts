import { MODEL_DATA_URL, synthesize } from '../../test/synth';
import { IMAGE_CLASSIFICATION_REGISTRIES } from './builtin-image';

const BYOC_IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/scones-endpoint:0.1.0';

describe('SageMakerEndpoint', () => {
  describe('without modelDataUrl', () => {
    it('creates no SageMaker resource and reports the given endpoint name', () => {
      const s = synthesize({ endpointName: 'existing-endpoint' });
      expect(s.stack.endpoint).toBeUndefined();
      for (const type of ['AWS::SageMaker::Model', 'AWS::SageMaker::EndpointConfig', 'AWS::SageMaker::Endpoint']) s.template.resourceCountIs(type, 0);
      expect(s.template.findMappings('*')).toEqual({});
      s.template.hasOutput('EndpointName', { Value: 'existing-endpoint' });
    });
  });

  describe('with modelDataUrl (built-in image-classification image)', () => {
    const s = synthesize({ modelDataUrl: MODEL_DATA_URL, endpointName: 'scones-prod', instanceType: 'ml.c5.xlarge' });
    const sm = s.stack.endpoint!;
    const bucket = s.id(s.stack.data.bucket);

    it('uses the region\'s built-in algorithm image through a region mapping (environment-agnostic)', () => {
      const mappingId = Object.keys(s.template.findMappings('*'))[0];
      s.template.hasMapping(mappingId, {
        'eu-west-1': { account: '685385470294', domain: 'amazonaws.com' },
        'cn-north-1': { account: '390948362332', domain: 'amazonaws.com.cn' },
      });
      expect(Object.keys(s.template.findMappings('*')[mappingId])).toHaveLength(Object.keys(IMAGE_CLASSIFICATION_REGISTRIES).length);
      s.template.hasResourceProperties('AWS::SageMaker::Model', {
        ExecutionRoleArn: { 'Fn::GetAtt': [s.id(sm.role), 'Arn'] },
        PrimaryContainer: {
          Image: {
            'Fn::Join': [
              '',
              [
                { 'Fn::FindInMap': [mappingId, { Ref: 'AWS::Region' }, 'account'] },
                '.dkr.ecr.',
                { Ref: 'AWS::Region' },
                '.',
                { 'Fn::FindInMap': [mappingId, { Ref: 'AWS::Region' }, 'domain'] },
                '/image-classification:1',
              ],
            ],
          },
          ModelDataUrl: MODEL_DATA_URL,
          Mode: 'SingleModel',
        },
      });
    });

    it('captures 100 % of requests and responses to s3://<bucket>/data_capture', () => {
      s.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            ModelName: { 'Fn::GetAtt': [s.id(sm.model), 'ModelName'] },
            InstanceType: 'ml.c5.xlarge',
            InitialInstanceCount: 1,
            InitialVariantWeight: 1,
          },
        ],
        DataCaptureConfig: {
          EnableCapture: true,
          InitialSamplingPercentage: 100,
          DestinationS3Uri: { 'Fn::Join': ['', ['s3://', { Ref: bucket }, '/data_capture']] },
          CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
          CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
        },
      });
      s.template.hasResourceProperties('AWS::SageMaker::Endpoint', {
        EndpointName: 'scones-prod',
        EndpointConfigName: { 'Fn::GetAtt': [s.id(sm.endpointConfig), 'EndpointConfigName'] },
      });
      s.template.hasOutput('EndpointName', { Value: { 'Fn::GetAtt': [s.id(sm.endpoint), 'EndpointName'] } });
    });

    it('gives the execution role exactly: the artifact, writes under data_capture/, its own logs, its metrics', () => {
      const policy = Object.values(s.template.findResources('AWS::IAM::Policy')).find((p) => p.Properties.Roles[0].Ref === s.id(sm.role))!;
      const logGroup = (suffix: string) => ({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:log-group:/aws/sagemaker/Endpoints/scones-prod${suffix}`]],
      });
      expect(policy.Properties.PolicyDocument.Statement).toEqual([
        { Action: 's3:GetObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::scones-models-123/models/scones-job-1/model.tar.gz']] } },
        { Action: 's3:PutObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/data_capture/*']] } },
        {
          Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          Effect: 'Allow',
          Resource: [logGroup(''), logGroup(':*')],
        },
        { Action: 'cloudwatch:PutMetricData', Effect: 'Allow', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/Endpoints' } } },
      ]);
      const role = s.template.findResources('AWS::IAM::Role')[s.id(sm.role)];
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' } },
      ]);
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('creates the model only after its role may read the artifact', () => {
      const model = s.template.findResources('AWS::SageMaker::Model')[s.id(sm.model)];
      expect(model.DependsOn).toEqual(expect.arrayContaining([s.id(sm.role), expect.stringMatching(/^SageMakerExecutionRoleDefaultPolicy/)]));
    });
  });

  describe('with modelImage=byoc', () => {
    const s = synthesize({ modelDataUrl: MODEL_DATA_URL, modelImage: 'byoc', byocImageUri: BYOC_IMAGE, account: '210987654321', region: 'eu-central-1' });
    const sm = s.stack.endpoint!;

    it('runs the apps/endpoint image from ECR and may pull only that repository', () => {
      s.template.hasResourceProperties('AWS::SageMaker::Model', { PrimaryContainer: { Image: BYOC_IMAGE, ModelDataUrl: MODEL_DATA_URL } });
      expect(s.template.findMappings('*')).toEqual({});
      const policy = Object.values(s.template.findResources('AWS::IAM::Policy')).find((p) => p.Properties.Roles[0].Ref === s.id(sm.role))!;
      expect(policy.Properties.PolicyDocument.Statement.slice(4)).toEqual([
        {
          Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
          Effect: 'Allow',
          Resource: 'arn:aws:ecr:eu-west-1:123456789012:repository/scones-endpoint',
        },
        { Action: 'ecr:GetAuthorizationToken', Effect: 'Allow', Resource: '*' },
      ]);
    });
  });

  it('resolves the built-in image at synth time when the region is concrete, and rejects a region without it', () => {
    const s = synthesize({ modelDataUrl: MODEL_DATA_URL, account: '210987654321', region: 'cn-northwest-1' });
    s.template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { Image: '387376663083.dkr.ecr.cn-northwest-1.amazonaws.com.cn/image-classification:1' },
    });
    expect(s.template.findMappings('*')).toEqual({});
    expect(() => synthesize({ modelDataUrl: MODEL_DATA_URL, account: '210987654321', region: 'mx-central-1' })).toThrow(
      'region mx-central-1: SageMaker\'s built-in image-classification algorithm is not available there; use modelImage=byoc',
    );
  });
});
