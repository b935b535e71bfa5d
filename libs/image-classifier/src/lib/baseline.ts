import type { MonitoringBaseline } from '@scones/payload-schemas';
import { argMax } from './evaluation';
import { channelMeans, type RgbImage } from './image-decode';

/**
 * The monitoring baseline from validation images and the model's predictions on them: what
 * healthy traffic looks like (confidence distribution, class mix, input brightness).
 */
export function computeBaseline(images: readonly RgbImage[], probabilities: readonly (readonly number[])[], numClasses: number): MonitoringBaseline {
  const predictedClassCounts = new Array<number>(numClasses).fill(0);
  const confidences: number[] = [];
  for (const p of probabilities) {
    const k = argMax(p);
    predictedClassCounts[k]++;
    confidences.push(p[k]);
  }
  const brightness = { r: [] as number[], g: [] as number[], b: [] as number[] };
  for (const image of images) {
    const m = channelMeans(image);
    brightness.r.push(m.r);
    brightness.g.push(m.g);
    brightness.b.push(m.b);
  }
  return { count: images.length, confidences, predictedClassCounts, brightness };
}
