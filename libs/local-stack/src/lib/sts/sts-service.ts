import { awsQueryHandler } from '@scones/stack-core';
import type { StackContext, StackService } from '@scones/stack-core';

/**
 * STS, only `GetCallerIdentity`: the AWS CLI, boto3 scripts and the SageMaker Python SDK call it
 * to learn the account before anything else.
 */
export function createStsService(stack: StackContext): StackService {
  const handle = awsQueryHandler({
    serviceName: 'STS',
    service: 'sts',
    operations: {
      GetCallerIdentity: (_params, ctx) => ({
        Arn: `arn:aws:iam::${stack.accountId}:root`,
        UserId: ctx.accessKeyId ?? stack.accountId,
        Account: stack.accountId,
      }),
    },
  });
  return { id: 'sts', handle };
}
