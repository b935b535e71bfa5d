// The course's workflow as learners write it (test fixtures, exported by src/testing.ts, not by the
// production index): the three lambda_function.py files in the starter's style and the state
// machine as the Step Functions console exports it. One copy for the specs, the benchmarks and
// the CLI's tests.

/** The course's serialize function: reads the image with boto3 and returns its base64 as bytes. */
export const SERIALIZE_PY = `import json
import boto3
import base64

s3 = boto3.client('s3')


def lambda_handler(event, context):
    """A function to serialize target data from S3"""
    key = event['s3_key']
    bucket = event['s3_bucket']
    s3.download_file(bucket, key, '/tmp/image.png')
    with open('/tmp/image.png', 'rb') as f:
        image_data = base64.b64encode(f.read())
    print("Event:", event.keys())
    return {
        'statusCode': 200,
        'body': {
            "image_data": image_data,
            "s3_bucket": bucket,
            "s3_key": key,
            "inferences": []
        }
    }
`;

/**
 * The course's filter as many learners wrote it: `raise("THRESHOLD_CONFIDENCE_NOT_MET")` is a
 * TypeError in Python 3 (as on AWS), so an image under the threshold fails the execution.
 */
export function starterFilterPy(threshold: number): string {
  return `import json

THRESHOLD = ${threshold}


def lambda_handler(event, context):
    inferences = event['body']['inferences']
    meets_threshold = max(inferences) >= THRESHOLD
    if meets_threshold:
        pass
    else:
        raise("THRESHOLD_CONFIDENCE_NOT_MET")
    return {
        'statusCode': 200,
        'body': json.dumps(event)
    }
`;
}

/** {@link starterFilterPy} with the threshold most learners chose. */
export const FILTER_RAISE_STRING_PY = starterFilterPy(0.93);

/**
 * The course's classify function in its most common form: `boto3.client('runtime.sagemaker')`,
 * `image/png`, the endpoint's answer parsed, the endpoint name written into the code.
 */
export function starterClassifyPy(endpointName: string): string {
  return `import json
import boto3
import base64

# Fill this in with the name of your deployed model
ENDPOINT = "${endpointName}"
runtime = boto3.client('runtime.sagemaker')


def lambda_handler(event, context):
    # Decode the image data
    image = base64.b64decode(event['body']['image_data'])
    response = runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType='image/png', Body=image)
    inferences = json.loads(response['Body'].read().decode('utf-8'))
    return {
        'statusCode': 200,
        'body': {
            "image_data": event['body']['image_data'],
            "s3_bucket": event['body']['s3_bucket'],
            "s3_key": event['body']['s3_key'],
            "inferences": inferences
        }
    }
`;
}

export interface StarterFunctions {
  serialize: string;
  classify: string;
  filter: string;
}

const CONSOLE_RETRY = [{ ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }];

/**
 * A state machine as the Step Functions console exports the course's workflow: three
 * `lambda:invoke` tasks, `"Payload.$": "$"`, `OutputPath: "$.Payload"`, the console's Retry, and
 * function ARNs of another account with `:$LATEST` (`console`). `templates` passes the same data with
 * a Payload template and ResultPath (Serialize), InputPath (Classify), a Payload template,
 * ResultSelector and OutputPath (Filter).
 */
export function starterDefinition(functions: StarterFunctions, variant: 'console' | 'templates' = 'console'): Record<string, unknown> {
  const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}:$LATEST`;
  const task = (name: string, parameters: Record<string, unknown>, extra: Record<string, unknown>) => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { ...parameters, FunctionName: arn(name) },
    Retry: CONSOLE_RETRY,
    ...extra,
  });
  if (variant === 'console') {
    return {
      Comment: 'A description of my state machine',
      StartAt: 'Serialize Image Data',
      States: {
        'Serialize Image Data': task(functions.serialize, { 'Payload.$': '$' }, { OutputPath: '$.Payload', Next: 'Image Classification' }),
        'Image Classification': task(functions.classify, { 'Payload.$': '$' }, { OutputPath: '$.Payload', Next: 'Filter Low Confidence Inferences' }),
        'Filter Low Confidence Inferences': task(functions.filter, { 'Payload.$': '$' }, { OutputPath: '$.Payload', End: true }),
      },
    };
  }
  return {
    Comment: 'The course workflow with Payload templates, InputPath, ResultPath and ResultSelector',
    StartAt: 'Serialize',
    States: {
      Serialize: task(functions.serialize, { Payload: { 's3_bucket.$': '$.s3_bucket', 's3_key.$': '$.s3_key' } }, { ResultPath: '$.serialized', Next: 'Classify' }),
      Classify: task(functions.classify, { 'Payload.$': '$' }, { InputPath: '$.serialized.Payload', OutputPath: '$.Payload', Next: 'Filter' }),
      Filter: task(functions.filter, { Payload: { 'body.$': '$.body' } }, { ResultSelector: { 'result.$': '$.Payload', 'status.$': '$.StatusCode' }, OutputPath: '$.result', End: true }),
    },
  };
}
