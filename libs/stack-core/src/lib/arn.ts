/** The account id every resource of the local stack belongs to (LocalStack and moto use the same). */
export const LOCAL_ACCOUNT_ID = '000000000000';

/**
 * Credentials for clients of the local stack: any are accepted (signatures are not checked on
 * loopback); these are what `scones env` prints and what the stack gives its child processes.
 */
export const STACK_CREDENTIALS = { accessKeyId: 'scones', secretAccessKey: 'scones-local-stack' } as const;

/** Region used when a request does not say (its SigV4 scope normally does). */
export const DEFAULT_STACK_REGION = 'us-east-1';

export interface Arn {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  /** Everything after the account: `function:name`, `stateMachine:name`, `endpoint/name`… */
  resource: string;
}

/** `arn:partition:service:region:account:resource`, or undefined when `text` is not an ARN. */
export function parseArn(text: string): Arn | undefined {
  const parts = text.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const [, partition, service, region, accountId, ...resource] = parts;
  return { partition, service, region, accountId, resource: resource.join(':') };
}

export function formatArn(arn: Omit<Arn, 'partition'> & { partition?: string }): string {
  return `arn:${arn.partition ?? 'aws'}:${arn.service}:${arn.region}:${arn.accountId}:${arn.resource}`;
}
