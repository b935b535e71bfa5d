/** Whether an S3 key names an image the workflow classifies (PNG or JPEG, by extension). */
export function isImageKey(key: string): boolean {
  return /\.(png|jpe?g)$/i.test(key);
}
