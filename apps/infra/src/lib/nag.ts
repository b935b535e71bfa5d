import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { InfraConfigError } from '../errors';

/**
 * The text cdk-nag prints for a policy resource in an IAM5 finding id, e.g.
 * `<DataBucketE6B0FAA8.Arn>/data/*` for `Fn::Join [GetAtt DataBucket.Arn, "/data/*"]`: tokens are
 * written `<LogicalId.Attribute>` or `<Ref>`. Acknowledgements name the exact finding, so a new
 * wildcard is never waved through by an old acknowledgement.
 */
export function nagResourceText(scope: IConstruct, value: string): string {
  const resolved: unknown = Stack.of(scope).resolve(value);
  const part = (p: unknown): string => {
    if (typeof p === 'string') return p;
    const token = p as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    if (token.Ref) return `<${token.Ref}>`;
    if (token['Fn::GetAtt']) return `<${token['Fn::GetAtt'].join('.')}>`;
    throw new InfraConfigError(`cannot name the cdk-nag finding for ${JSON.stringify(p)}`);
  };
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })?.['Fn::Join'];
  return join ? join[1].map(part).join(join[0]) : part(resolved);
}

/** Acknowledges cdk-nag's IAM5 finding for one wildcard resource of `scope`'s policies, with the reason. */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagResourceText(scope, resource)}]`, reason });
}
