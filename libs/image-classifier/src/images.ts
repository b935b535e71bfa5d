// Secondary entry point: SageMaker's built-in image-classification algorithm images (registry
// accounts per region), without TensorFlow.js or the AWS SDK, for code that must start fast (the
// local stack recognises these images).
export { IMAGE_CLASSIFICATION_REGISTRIES, imageClassificationImageUri } from './lib/algorithm-images';
