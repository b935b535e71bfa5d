// The workflow as a learner of the course writes it, for `scones functions deploy` and
// `scones run --definition`: three lambda_function.py files in the style of the course's starter
// and the state machine as the Step Functions console exports it (lambda:invoke with
// `Payload.$: "$"`, `OutputPath: "$.Payload"`, function ARNs of the learner's own account).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The function names the learner chose in the console. */
export const COURSE_FUNCTIONS = { serialize: 'serializeImageData', classify: 'imageClassification', filter: 'filterLowConfidence' } as const;

/** serialize: reads the image with boto3 and returns its base64 as bytes (the AWS runtime marshals them). */
const SERIALIZE = `import json
import boto3
import base64

s3 = boto3.client('s3')

def lambda_handler(event, context):
    """A function to serialize target data from S3"""

    # Get the s3 address from the Step Function event input
    key = event['s3_key']
    bucket = event['s3_bucket']

    # Download the data from s3 to /tmp/image.png
    s3.download_file(bucket, key, "/tmp/image.png")

    # We read the data from a file
    with open("/tmp/image.png", "rb") as f:
        image_data = base64.b64encode(f.read())

    # Pass the data back to the Step Function
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

/** classify: the endpoint through `boto3.client('runtime.sagemaker')`, the answer parsed. */
const classify = (endpoint: string) => `import json
import base64
import boto3

# Fill this in with the name of your deployed model
ENDPOINT = "${endpoint}"

runtime = boto3.client('runtime.sagemaker')

def lambda_handler(event, context):

    # Decode the image data
    image = base64.b64decode(event['body']['image_data'])

    # Make a prediction
    response = runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType='image/png', Body=image)

    # We return the data back to the Step Function
    event['body']["inferences"] = json.loads(response['Body'].read().decode('utf-8'))
    return {
        'statusCode': 200,
        'body': event['body']
    }
`;

/** filter: `raise("THRESHOLD_CONFIDENCE_NOT_MET")` — a TypeError in Python 3, as on AWS. */
const filter = (threshold: number) => `import json

THRESHOLD = ${threshold}

def lambda_handler(event, context):

    # Grab the inferences from the event
    inferences = event['body']['inferences']

    # Check if any values in our inferences are above THRESHOLD
    meets_threshold = max(inferences) >= THRESHOLD

    # If our threshold is met, pass our data back out of the
    # Step Function, else, end the Step Function with an error
    if meets_threshold:
        pass
    else:
        raise("THRESHOLD_CONFIDENCE_NOT_MET")

    return {
        'statusCode': 200,
        'body': json.dumps(event)
    }
`;

const LAMBDA_RETRY = [
  { ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'], IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2 },
];

const step = (functionName: string, next?: string) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  OutputPath: '$.Payload',
  Parameters: { 'Payload.$': '$', FunctionName: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}:$LATEST` },
  Retry: LAMBDA_RETRY,
  ...(next ? { Next: next } : { End: true }),
});

/** The state machine as the console exports it (another account's ARNs: the stack resolves them by name). */
export const COURSE_DEFINITION = {
  Comment: 'A description of my state machine',
  StartAt: 'Serialize Image Data',
  States: {
    'Serialize Image Data': step(COURSE_FUNCTIONS.serialize, 'Image Classification'),
    'Image Classification': step(COURSE_FUNCTIONS.classify, 'Filter Low Confidence Inferences'),
    'Filter Low Confidence Inferences': step(COURSE_FUNCTIONS.filter),
  },
};

/**
 * Writes `<dir>/serialize|classify|filter/lambda_function.py` (the endpoint name and the threshold
 * as a learner fills them in) and `<dir>/stepfunction.json`.
 */
export async function writeCourseWorkflow(dir: string, { endpoint, threshold }: { endpoint: string; threshold: number }): Promise<{ functions: Record<keyof typeof COURSE_FUNCTIONS, string>; definition: string }> {
  const sources = { serialize: SERIALIZE, classify: classify(endpoint), filter: filter(threshold) };
  const functions = {} as Record<keyof typeof COURSE_FUNCTIONS, string>;
  for (const [step, source] of Object.entries(sources) as Array<[keyof typeof COURSE_FUNCTIONS, string]>) {
    functions[step] = join(dir, step);
    await mkdir(functions[step], { recursive: true });
    await writeFile(join(functions[step], 'lambda_function.py'), source);
  }
  const definition = join(dir, 'stepfunction.json');
  await writeFile(definition, `${JSON.stringify(COURSE_DEFINITION, null, 2)}\n`);
  return { functions, definition };
}
