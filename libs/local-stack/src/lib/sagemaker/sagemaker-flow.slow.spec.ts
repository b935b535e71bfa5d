import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startTestStack, type TestStack } from '../../testing';

const run = promisify(execFile);
jest.setTimeout(15 * 60_000);

const ROOT = resolve(__dirname, '../../../../..');
const SUBSET = '/work/shared/data/cifar-100-python-bicycle-motorcycle.tar.gz';

/*
 * The course's whole flow from a Python boto3 script that knows only the stack's environment
 * (AWS_ENDPOINT_URL…): upload the staged PNGs and .lst files, CreateTrainingJob as the notebook
 * sends it (the built-in image-classification image, four channels, its hyperparameters — plus
 * the local stack's `scones_preset=quick` and a few epochs so the run takes well under a few
 * minutes), wait with the waiter, follow the log, deploy with DataCaptureConfig, invoke test
 * images, read the captured JSONL back from S3.
 */
const SCRIPT = String.raw`
import boto3, json, os, sys, time
from concurrent.futures import ThreadPoolExecutor

staged, bucket, region = sys.argv[1], 'sagemaker-course-bucket', os.environ['AWS_REGION']
s3 = boto3.client('s3')
sm = boto3.client('sagemaker')
logs = boto3.client('logs')
runtime = boto3.client('sagemaker-runtime')
s3.create_bucket(Bucket=bucket)

def upload(pair):
    path, key = pair
    s3.upload_file(path, bucket, key)

files = []
for split in ('train', 'test'):
    for name in sorted(os.listdir(os.path.join(staged, 'data', split))):
        files.append((os.path.join(staged, 'data', split, name), f'{split}/{name}'))
    files.append((os.path.join(staged, 'data', f'{split}.lst'), f'{split}.lst'))
with ThreadPoolExecutor(16) as pool:
    list(pool.map(upload, files))

train_rows = [l.split('\t') for l in open(os.path.join(staged, 'data', 'train.lst')).read().splitlines() if l]
image = '811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1'
def channel(name, uri):
    return {'ChannelName': name, 'ContentType': 'application/x-image', 'InputMode': 'File', 'CompressionType': 'None',
            'DataSource': {'S3DataSource': {'S3DataType': 'S3Prefix', 'S3Uri': uri, 'S3DataDistributionType': 'FullyReplicated'}}}
job = 'image-classification-' + time.strftime('%Y-%m-%d-%H-%M-%S', time.gmtime())
sm.create_training_job(
    TrainingJobName=job,
    RoleArn='arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole',
    AlgorithmSpecification={'TrainingImage': image, 'TrainingInputMode': 'File'},
    HyperParameters={'image_shape': '3,32,32', 'num_classes': '2', 'num_training_samples': str(len(train_rows)),
                     'epochs': '5', 'scones_preset': 'quick', 'scones_class_names': 'bicycle,motorcycle'},
    InputDataConfig=[channel('train', f's3://{bucket}/train/'), channel('validation', f's3://{bucket}/test/'),
                     channel('train_lst', f's3://{bucket}/train.lst'), channel('validation_lst', f's3://{bucket}/test.lst')],
    OutputDataConfig={'S3OutputPath': f's3://{bucket}/models'},
    ResourceConfig={'InstanceType': 'ml.p3.2xlarge', 'InstanceCount': 1, 'VolumeSizeInGB': 30},
    StoppingCondition={'MaxRuntimeInSeconds': 3600})
sm.get_waiter('training_job_completed_or_stopped').wait(TrainingJobName=job, WaiterConfig={'Delay': 2, 'MaxAttempts': 400})
described = sm.describe_training_job(TrainingJobName=job)

streams = logs.describe_log_streams(logGroupName='/aws/sagemaker/TrainingJobs', logStreamNamePrefix=job + '/')['logStreams']
log = []
token = None
while True:
    kw = {'nextToken': token} if token else {}
    page = logs.get_log_events(logGroupName='/aws/sagemaker/TrainingJobs', logStreamName=streams[0]['logStreamName'], startFromHead=True, **kw)
    log += [e['message'] for e in page['events']]
    if page['nextForwardToken'] == token:
        break
    token = page['nextForwardToken']

endpoint = job.replace('image-classification', 'ep')[:63]
sm.create_model(ModelName=job, ExecutionRoleArn='arn:aws:iam::000000000000:role/service-role/AmazonSageMaker-ExecutionRole',
                PrimaryContainer={'Image': image, 'ModelDataUrl': described['ModelArtifacts']['S3ModelArtifacts']})
sm.create_endpoint_config(EndpointConfigName=job, ProductionVariants=[{'VariantName': 'AllTraffic', 'ModelName': job, 'InitialInstanceCount': 1, 'InstanceType': 'ml.m5.xlarge', 'InitialVariantWeight': 1}],
    DataCaptureConfig={'EnableCapture': True, 'InitialSamplingPercentage': 100, 'DestinationS3Uri': f's3://{bucket}/data_capture',
                       'CaptureOptions': [{'CaptureMode': 'Input'}, {'CaptureMode': 'Output'}],
                       'CaptureContentTypeHeader': {'CsvContentTypes': ['text/csv'], 'JsonContentTypes': ['application/json']}})
sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=job)
sm.get_waiter('endpoint_in_service').wait(EndpointName=endpoint, WaiterConfig={'Delay': 1, 'MaxAttempts': 120})

test_rows = [l.split('\t') for l in open(os.path.join(staged, 'data', 'test.lst')).read().splitlines() if l]
sample = test_rows[::10]
correct = 0
for row, label, path in sample:
    body = open(os.path.join(staged, 'data', 'test', path), 'rb').read()
    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType='application/x-image', Body=body)
    probabilities = json.loads(answer['Body'].read())
    correct += int(max(range(len(probabilities)), key=lambda i: probabilities[i]) == int(float(label)))

records = []
deadline = time.time() + 60
while time.time() < deadline:
    keys = [o['Key'] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f'data_capture/{endpoint}/AllTraffic/').get('Contents', [])]
    records = [json.loads(line) for key in keys for line in s3.get_object(Bucket=bucket, Key=key)['Body'].read().decode().splitlines() if line]
    if len(records) >= len(sample):
        break
    time.sleep(0.5)

print(json.dumps({
    'status': described['TrainingJobStatus'],
    'transitions': [t['Status'] for t in described['SecondaryStatusTransitions']],
    'metrics': {m['MetricName']: m['Value'] for m in described['FinalMetricDataList']},
    'artifact': described['ModelArtifacts']['S3ModelArtifacts'],
    'epochLines': [l for l in log if 'Epoch[' in l and 'Validation-accuracy' in l],
    'endpointStatus': sm.describe_endpoint(EndpointName=endpoint)['EndpointStatus'],
    'invoked': len(sample), 'correct': correct,
    'captured': len(records),
    'captureModes': sorted({r['captureData']['endpointInput']['mode'] + '/' + r['captureData']['endpointOutput']['mode'] for r in records}),
    'job': job, 'bucket': bucket,
}))
`;

describe('the course flow from a boto3 script, against the stack (slow)', () => {
  let stack: TestStack;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'scones-flow-'));
    stack = await startTestStack({ services: ['s3', 'logs', 'sagemaker', 'sagemaker-runtime', 'sts'] });
  });
  afterAll(async () => {
    await stack?.dispose();
    await rm(scratch, { recursive: true, force: true });
  });

  it('stages, trains, deploys with capture, invokes and reads the capture back', async () => {
    const staged = join(scratch, 'staged');
    await run(process.execPath, [join(ROOT, 'tools/scones.js'), 'stage', '--out', staged, '--source', SUBSET], { cwd: ROOT, env: { ...process.env, SCONES_LOG_LEVEL: 'warn' } });
    const script = join(scratch, 'flow.py');
    await writeFile(script, SCRIPT);
    // Only the stack's environment: boto3 finds the endpoint through AWS_ENDPOINT_URL.
    const { stdout } = await run('python3', [script, staged], { env: { PATH: process.env.PATH ?? '', HOME: scratch, ...stack.context.sdkEnvironment() }, maxBuffer: 16 * 1024 * 1024 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown> & { metrics: Record<string, number>; epochLines: string[] };
    expect(result).toMatchObject({
      status: 'Completed',
      transitions: ['Starting', 'Downloading', 'Training', 'Uploading', 'Completed'],
      artifact: `s3://${result.bucket}/models/${result.job}/output/model.tar.gz`,
      endpointStatus: 'InService',
      invoked: 20,
      captured: 20,
      captureModes: ['INPUT/OUTPUT'],
    });
    expect(result.epochLines).toHaveLength(5);
    // Five quick epochs on the real bicycle/motorcycle images learn something; the validation
    // channel (the staged test split) is evaluated once after training.
    expect(result.metrics['validation:accuracy']).toBeGreaterThan(0.6);
    expect(result.metrics['train:accuracy']).toBeGreaterThan(0.6);
    expect(result.correct as number).toBeGreaterThanOrEqual(12);
  });
});
