export { ImageClassifierError, ImageDecodeError } from './errors';
export { decodeImage, resizeImage, channelMeans, encodePng, sniffImageFormat, type RgbImage, type ImageFormat } from './lib/image-decode';
