import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestStack, type TestStack } from '../../testing';
import { ECHO_PY, FILTER_RAISE_STRING_PY, zipPackage } from './testing';

const run = promisify(execFile);
jest.setTimeout(180_000);

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

/**
 * A boto3 session of the kind people write: create from a zip, wait with function_active_v2,
 * invoke (a result, a function error, Tail logs), update + function_updated_v2, paginate, delete,
 * and a missing function. Prints one JSON document of what it saw.
 */
const BOTO3_SESSION = `
import base64, json, sys
import boto3, botocore

url, zip_path, filter_zip_path, explicit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "explicit"
kwargs = {"endpoint_url": url} if explicit else {}
client = boto3.client("lambda", **kwargs)
seen = {"botocore": botocore.__version__}
with open(zip_path, "rb") as f:
    created = client.create_function(FunctionName="echo", Runtime="python3.11", Role="${ROLE}",
        Handler="lambda_function.lambda_handler", Code={"ZipFile": f.read()}, Environment={"Variables": {"STAGE": "test"}})
seen["created_state"] = created["State"]
client.get_waiter("function_active_v2").wait(FunctionName="echo", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
answer = client.invoke(FunctionName="echo", Payload=json.dumps({"hello": "boto3"}), LogType="Tail")
seen["status"] = answer["StatusCode"]
seen["payload"] = json.loads(answer["Payload"].read())
seen["executed_version"] = answer["ExecutedVersion"]
seen["log_has_report"] = "REPORT RequestId: " in base64.b64decode(answer["LogResult"]).decode()
with open(filter_zip_path, "rb") as f:
    client.create_function(FunctionName="filter", Runtime="python3.11", Role="${ROLE}",
        Handler="lambda_function.lambda_handler", Code={"ZipFile": f.read()})
failed = client.invoke(FunctionName="filter", Payload=json.dumps({"body": {"inferences": [0.5, 0.5]}}))
seen["function_error"] = failed.get("FunctionError")
seen["error_type"] = json.loads(failed["Payload"].read())["errorType"]
client.update_function_configuration(FunctionName="echo", Timeout=9)
client.get_waiter("function_updated_v2").wait(FunctionName="echo", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
seen["timeout"] = client.get_function(FunctionName="echo")["Configuration"]["Timeout"]
names = []
for page in client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1}):
    names += [f["FunctionName"] for f in page["Functions"]]
seen["names"] = names
client.delete_function(FunctionName="filter")
try:
    client.invoke(FunctionName="filter", Payload=b"{}")
except client.exceptions.ResourceNotFoundException as error:
    seen["missing"] = [error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"], error.response["Error"]["Message"]]
print(json.dumps(seen))
`;

describe('Lambda API from boto3 and the AWS CLI', () => {
  let stack: TestStack;
  let dir: string;
  beforeEach(async () => {
    stack = await startTestStack({ services: ['lambda'] });
    dir = await mkdtemp(join(tmpdir(), 'scones-lambda-clients-'));
    await writeFile(join(dir, 'echo.zip'), zipPackage({ 'lambda_function.py': ECHO_PY }));
    await writeFile(join(dir, 'filter.zip'), zipPackage({ 'lambda_function.py': FILTER_RAISE_STRING_PY }));
  });
  afterEach(async () => {
    await stack.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['python3', 'AWS_ENDPOINT_URL', 'environment'],
    ['/usr/bin/python3', 'endpoint_url=', 'explicit'],
  ])('drives the API with boto3 of %s (endpoint from %s)', async (python, _how, mode) => {
    const { stdout } = await run(python, ['-c', BOTO3_SESSION, stack.url, join(dir, 'echo.zip'), join(dir, 'filter.zip'), mode], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...stack.context.sdkEnvironment(), ...(mode === 'explicit' ? { AWS_ENDPOINT_URL: '' } : {}) },
    });
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    expect(seen).toMatchObject({
      created_state: 'Pending',
      status: 200,
      payload: { hello: 'boto3' },
      executed_version: '$LATEST',
      log_has_report: true,
      function_error: 'Unhandled',
      error_type: 'TypeError',
      timeout: 9,
      names: ['echo', 'filter'],
      missing: ['ResourceNotFoundException', 404, 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:filter'],
    });
  });

  it('creates, waits for and invokes a function with the AWS CLI (fileb:// zip)', async () => {
    const env = { ...process.env, ...stack.context.sdkEnvironment(), HOME: dir };
    const aws = (...args: string[]) => run('/usr/bin/aws', [...args, '--endpoint-url', stack.url, '--output', 'json'], { env });
    const created = JSON.parse((await aws('lambda', 'create-function', '--function-name', 'cli-echo', '--runtime', 'python3.11', '--role', ROLE, '--handler', 'lambda_function.lambda_handler', '--zip-file', `fileb://${join(dir, 'echo.zip')}`)).stdout) as Record<string, unknown>;
    expect(created).toMatchObject({ FunctionName: 'cli-echo', State: 'Pending' });
    await aws('lambda', 'wait', 'function-active-v2', '--function-name', 'cli-echo');
    const out = join(dir, 'out.json');
    const invoked = JSON.parse((await aws('lambda', 'invoke', '--function-name', 'cli-echo', '--cli-binary-format', 'raw-in-base64-out', '--payload', '{"from": "cli"}', '--log-type', 'Tail', out)).stdout) as Record<string, unknown>;
    expect(invoked).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST' });
    expect(Buffer.from(invoked.LogResult as string, 'base64').toString()).toContain('START RequestId:');
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual({ from: 'cli' });
    await expect(aws('lambda', 'get-function', '--function-name', 'nope')).rejects.toMatchObject({ stderr: expect.stringContaining('(ResourceNotFoundException) when calling the GetFunction operation: Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope') });
    await aws('lambda', 'delete-function', '--function-name', 'cli-echo');
    expect(JSON.parse((await aws('lambda', 'list-functions')).stdout)).toEqual({ Functions: [] });
  });
});
