import { CloudFormationClient, CloudFormationServiceException, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { STACK_OUTPUT_KEYS, StackOutputsError, readStackOutputs, stackExportName } from './stack-outputs';

const cloudFormation = mockClient(CloudFormationClient);

const OUTPUTS: Output[] = [
  { OutputKey: 'BucketName', OutputValue: 'sconesstack-databucket-1a2b3c', ExportName: 'SconesStack-BucketName' },
  { OutputKey: 'StateMachineArn', OutputValue: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Classify' },
  { OutputKey: 'BatchStateMachineArn', OutputValue: 'arn:aws:states:eu-west-1:123456789012:stateMachine:ClassifyBatch' },
  { OutputKey: 'EndpointName', OutputValue: 'scones-image-classifier' },
  { OutputKey: 'TopicArn', OutputValue: 'arn:aws:sns:eu-west-1:123456789012:SconesStack-Failures' },
  { OutputKey: 'SomethingElse', OutputValue: 'ignored' },
];

function stackWith(outputs: Output[], status = 'CREATE_COMPLETE') {
  return { Stacks: [{ StackName: 'SconesStack', StackStatus: status, CreationTime: new Date(0), Outputs: outputs }] } as never;
}

function validationError(message: string) {
  return new CloudFormationServiceException({ name: 'ValidationError', $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}

beforeEach(() => cloudFormation.reset());

describe('readStackOutputs', () => {
  it('sends exactly one DescribeStacks for the stack and maps every output', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves(stackWith(OUTPUTS));

    await expect(readStackOutputs('SconesStack')).resolves.toEqual({
      bucketName: 'sconesstack-databucket-1a2b3c',
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Classify',
      batchStateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:ClassifyBatch',
      endpointName: 'scones-image-classifier',
      topicArn: 'arn:aws:sns:eu-west-1:123456789012:SconesStack-Failures',
    });
    const calls = cloudFormation.commandCalls(DescribeStacksCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({ StackName: 'SconesStack' });
    expect(cloudFormation.calls()).toHaveLength(1);
  });

  it('asks the given region', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves(stackWith(OUTPUTS));

    await readStackOutputs('SconesStack', { region: 'eu-west-1' });
    const client = cloudFormation.call(0).thisValue as CloudFormationClient;
    await expect(client.config.region()).resolves.toBe('eu-west-1');
  });

  it('names the stack and region when the stack does not exist', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(validationError('Stack with id Nope does not exist'));

    const failure = readStackOutputs('Nope', { region: 'eu-west-1' });
    await expect(failure).rejects.toThrow(StackOutputsError);
    await expect(failure).rejects.toThrow('stack "Nope" in eu-west-1 does not exist: deploy it first (npx nx run infra:deploy)');
  });

  it('lists every missing output and the stack status', async () => {
    const partial = OUTPUTS.filter((o) => o.OutputKey !== 'TopicArn' && o.OutputKey !== 'EndpointName');
    cloudFormation.on(DescribeStacksCommand).resolves(stackWith(partial, 'UPDATE_ROLLBACK_COMPLETE'));

    await expect(readStackOutputs('SconesStack')).rejects.toThrow(
      'stack "SconesStack" (status UPDATE_ROLLBACK_COMPLETE) has no output EndpointName, TopicArn: is it a Scones stack',
    );
  });

  it('treats an empty output value as missing', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves(stackWith(OUTPUTS.map((o) => (o.OutputKey === 'BucketName' ? { ...o, OutputValue: '' } : o))));

    await expect(readStackOutputs('SconesStack')).rejects.toThrow('has no output BucketName:');
  });

  it('reports a stack without outputs (still being created)', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'SconesStack', StackStatus: 'CREATE_IN_PROGRESS', CreationTime: new Date(0) }] });

    await expect(readStackOutputs('SconesStack')).rejects.toThrow(
      'stack "SconesStack" (status CREATE_IN_PROGRESS) has no output BucketName, StateMachineArn, BatchStateMachineArn, EndpointName, TopicArn',
    );
  });

  it('wraps other failures (credentials, throttling) with the stack name', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));

    await expect(readStackOutputs('SconesStack')).rejects.toThrow(
      'cannot read stack "SconesStack": CredentialsProviderError: Could not load credentials from any providers',
    );
  });

  it('rejects a malformed stack name before calling AWS', async () => {
    await expect(readStackOutputs('my stack')).rejects.toThrow('--stack: "my stack" is not a CloudFormation stack name');
    await expect(readStackOutputs('')).rejects.toThrow(StackOutputsError);
    expect(cloudFormation.calls()).toHaveLength(0);
  });

  it('accepts a stack ARN', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves(stackWith(OUTPUTS));
    const arn = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/SconesStack/0a1b2c3d-0000-4000-8000-000000000000';

    await readStackOutputs(arn);
    expect(cloudFormation.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: arn });
  });
});

describe('stackExportName', () => {
  it('prefixes the output key with the stack name', () => {
    expect(stackExportName('SconesStack', 'stateMachineArn')).toBe('SconesStack-StateMachineArn');
    expect(Object.keys(STACK_OUTPUT_KEYS)).toEqual(['bucketName', 'stateMachineArn', 'batchStateMachineArn', 'endpointName', 'topicArn']);
  });
});
