import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { LocalCloudError } from '../errors';

/**
 * The outputs of the Scones CDK stack (apps/infra), by the name `scones` uses for each. The CDK
 * app declares its `CfnOutput`s with exactly these keys, so the two cannot drift apart.
 */
export const STACK_OUTPUT_KEYS = {
  bucketName: 'BucketName',
  stateMachineArn: 'StateMachineArn',
  batchStateMachineArn: 'BatchStateMachineArn',
  endpointName: 'EndpointName',
  topicArn: 'TopicArn',
} as const;

export type StackOutputName = keyof typeof STACK_OUTPUT_KEYS;
export type StackOutputs = Record<StackOutputName, string>;

/** Name of the stack `nx run infra:deploy` creates unless context `stackName` says otherwise. */
export const DEFAULT_STACK_NAME = 'SconesStack';

/** CloudFormation export name of an output (`<stack>-<OutputKey>`), stable across deployments. */
export function stackExportName(stackName: string, output: StackOutputName): string {
  return `${stackName}-${STACK_OUTPUT_KEYS[output]}`;
}

/** The stack does not exist, cannot be described, or lacks one of the outputs `scones` needs. */
export class StackOutputsError extends LocalCloudError {
  override readonly name = 'StackOutputsError';
}

export interface ReadStackOutputsOptions {
  /** Region of the stack. Default: the SDK's (AWS_REGION, profile). */
  region?: string;
  /** Cancels the request (Ctrl-C). */
  signal?: AbortSignal;
}

// CloudFormation accepts a stack name or a stack ARN.
const STACK_NAME_PATTERN = /^([a-zA-Z][-a-zA-Z0-9]{0,127}|arn:[-a-z]+:cloudformation:[-a-z0-9]+:\d{12}:stack\/.+)$/;

/**
 * Reads the outputs of a deployed Scones stack, so `scones --stack <name>` needs no ARNs copied by
 * hand. Throws {@link StackOutputsError} naming the stack (and region) and what is missing.
 */
export async function readStackOutputs(stackName: string, options: ReadStackOutputsOptions = {}): Promise<StackOutputs> {
  if (!STACK_NAME_PATTERN.test(stackName)) {
    throw new StackOutputsError(
      `--stack: ${JSON.stringify(stackName)} is not a CloudFormation stack name (a letter, then letters, digits and hyphens, at most 128 characters)`,
    );
  }
  const client = new CloudFormationClient(options.region ? { region: options.region } : {});
  const where = `stack "${stackName}"${options.region ? ` in ${options.region}` : ''}`;
  let stack: Stack | undefined;
  try {
    const answer = await client.send(new DescribeStacksCommand({ StackName: stackName }), { abortSignal: options.signal });
    stack = answer.Stacks?.[0];
  } catch (error) {
    const { name, message } = error as Error;
    // CloudFormation answers a missing stack with a ValidationError "Stack with id X does not exist".
    if (name === 'ValidationError' && /does not exist/i.test(message)) stack = undefined;
    else throw new StackOutputsError(`cannot read ${where}: ${name}: ${message}`, { cause: error });
  } finally {
    client.destroy();
  }
  if (!stack) {
    throw new StackOutputsError(`${where} does not exist: deploy it first (npx nx run infra:deploy) or pass the right --stack / region`);
  }
  const values = new Map((stack.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]));
  const missing = Object.values(STACK_OUTPUT_KEYS).filter((key) => !values.get(key));
  if (missing.length > 0) {
    throw new StackOutputsError(
      `${where} (status ${stack.StackStatus ?? 'unknown'}) has no output ${missing.join(', ')}: is it a Scones stack deployed from apps/infra, and did its deployment complete?`,
    );
  }
  const entries = Object.entries(STACK_OUTPUT_KEYS).map(([name, key]) => [name, values.get(key) as string]);
  return Object.fromEntries(entries) as StackOutputs;
}
