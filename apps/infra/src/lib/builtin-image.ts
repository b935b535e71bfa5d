import { CfnMapping, Fn, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { InfraConfigError } from '../errors';

/**
 * The account that hosts SageMaker's built-in image-classification algorithm image (version 1)
 * in each region, from the SageMaker Python SDK's image_uri_config/image-classification.json.
 */
export const IMAGE_CLASSIFICATION_REGISTRIES: Readonly<Record<string, string>> = {
  'af-south-1': '455444449433',
  'ap-east-1': '286214385809',
  'ap-northeast-1': '501404015308',
  'ap-northeast-2': '306986355934',
  'ap-northeast-3': '867004704886',
  'ap-south-1': '991648021394',
  'ap-south-2': '628508329040',
  'ap-southeast-1': '475088953585',
  'ap-southeast-2': '544295431143',
  'ap-southeast-3': '951798379941',
  'ap-southeast-4': '106583098589',
  'ca-central-1': '469771592824',
  'ca-west-1': '190319476487',
  'cn-north-1': '390948362332',
  'cn-northwest-1': '387376663083',
  'eu-central-1': '813361260812',
  'eu-central-2': '680994064768',
  'eu-north-1': '669576153137',
  'eu-south-1': '257386234256',
  'eu-south-2': '104374241257',
  'eu-west-1': '685385470294',
  'eu-west-2': '644912444149',
  'eu-west-3': '749696950732',
  'il-central-1': '898809789911',
  'me-central-1': '272398656194',
  'me-south-1': '249704162688',
  'sa-east-1': '855470959533',
  'us-east-1': '811284229777',
  'us-east-2': '825641698319',
  'us-gov-east-1': '237065988967',
  'us-gov-west-1': '226302683700',
  'us-west-1': '632365934929',
  'us-west-2': '433757028032',
};

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
