// Secondary entry point: image decoding and statistics only, without TensorFlow.js, for code
// (monitoring, report Lambda) that must stay small.
export { ImageDecodeError } from './errors';
export { decodeImage, resizeImage, channelMeans, encodePng, sniffImageFormat, type RgbImage, type ImageFormat } from './lib/image-decode';
