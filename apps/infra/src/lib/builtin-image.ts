import { CfnMapping, Fn, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { IMAGE_CLASSIFICATION_REGISTRIES } from '@scones/image-classifier/images';
import { InfraConfigError } from '../errors';

// One table of the algorithm's registries, shared with `scones train --target aws`.
export { IMAGE_CLASSIFICATION_REGISTRIES };

/** ECR's host name suffix in the region's partition (the registries above are in aws and aws-cn). */
function ecrDomain(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/**
 * The built-in image-classification image URI for the stack's region. With a concrete region it
 * is a plain string (an unsupported region fails the synthesis); environment-agnostic, it is a
 * CloudFormation mapping lookup resolved at deploy time (an unsupported region fails the deployment
 * with a mapping error).
 */
export function builtinImageClassificationImage(scope: Construct): string {
  const { region } = Stack.of(scope);
  if (!Token.isUnresolved(region)) {
    const account = IMAGE_CLASSIFICATION_REGISTRIES[region];
    if (!account) throw new InfraConfigError(`region ${region}: SageMaker's built-in image-classification algorithm is not available there; use modelImage=byoc`);
    return `${account}.dkr.ecr.${region}.${ecrDomain(region)}/image-classification:1`;
  }
  const mapping = new CfnMapping(scope, 'ImageClassificationRegistry', {
    mapping: Object.fromEntries(Object.entries(IMAGE_CLASSIFICATION_REGISTRIES).map(([r, account]) => [r, { account, domain: ecrDomain(r) }])),
  });
  return Fn.join('', [mapping.findInMap(region, 'account'), '.dkr.ecr.', region, '.', mapping.findInMap(region, 'domain'), '/image-classification:1']);
}
