import { IMAGE_CLASSIFICATION_REGISTRIES } from '@scones/image-classifier/images';

/**
 * The container images the stack can stand in for, with this project's classifier:
 * - `builtin`: SageMaker's built-in image-classification algorithm, `<registry account>.dkr.ecr.<region>.<domain>/image-classification:<1|latest>`
 *   of any region (trains and serves);
 * - `project`: this project's own inference image (apps/endpoint), any ECR repository named `scones-endpoint`
 *   (serves only).
 */
export type ImageKind = 'builtin' | 'project';

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.(amazonaws\.com(?:\.cn)?|c2s\.ic\.gov|sc2s\.sgov\.gov)\/([a-z0-9._/-]+?)(?::([\w.-]{1,128})|@sha256:[0-9a-f]{64})?$/;

export function imageKind(image: string): ImageKind | undefined {
  const m = ECR_IMAGE.exec(image.trim());
  if (!m) return undefined;
  const [, account, region, , repository, tag] = m;
  if (repository === 'image-classification') {
    return IMAGE_CLASSIFICATION_REGISTRIES[region] === account && (tag === undefined || tag === '1' || tag === 'latest') ? 'builtin' : undefined;
  }
  return repository === 'scones-endpoint' || repository.endsWith('/scones-endpoint') ? 'project' : undefined;
}

/** Why an image cannot run here, naming it and what can. */
export function unsupportedImageReason(image: string, purpose: 'inference' | 'training'): string {
  const accepted =
    purpose === 'training'
      ? "SageMaker's built-in image-classification image of any region (e.g. 811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1)"
      : "SageMaker's built-in image-classification image of any region (e.g. 811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1) or this project's endpoint image (an ECR repository named scones-endpoint)";
  return `The local stack cannot run the ${purpose} image "${image}": it serves ${accepted} with its own classifier.`;
}
