import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelManifest } from '@scones/payload-schemas';
import { encodePng, type RgbImage } from '../src/lib/image-decode';

/**
 * A synthetic two-class image: class 0 has a bright horizontal bar on reddish noise, class 1 a
 * bright vertical bar on bluish noise. Easy to learn, so a tiny network trained for a few
 * epochs separates them.
 */
export function barImage(label: number, seed: number, size = 32): RgbImage {
  let s = (seed * 2654435761) >>> 0;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const data = new Uint8Array(size * size * 3);
  const at = Math.floor(size / 4 + rand() * (size / 2));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const onBar = label === 0 ? Math.abs(y - at) <= 2 : Math.abs(x - at) <= 2;
      const tint = label === 0 ? [60, 0, 0] : [0, 0, 60];
      for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = onBar ? 200 + Math.floor(rand() * 55) : tint[c] + Math.floor(rand() * 90);
    }
  }
  return { width: size, height: size, data };
}

/** Writes `<root>/data/<channel>.lst` and PNGs in the layout `scones stage --out` writes. */
export async function writeStagedChannel(root: string, channel: 'train' | 'test', perClass: number, numClasses = 2, seedOffset = 0): Promise<string[]> {
  await mkdir(join(root, 'data', channel), { recursive: true });
  const lines: string[] = [];
  const names: string[] = [];
  let row = 0;
  for (let i = 0; i < perClass; i++) {
    for (let label = 0; label < numClasses; label++) {
      const name = `img_${channel}_${label}_${i}.png`;
      await writeFile(join(root, 'data', channel, name), encodePng(barImage(label % 2, seedOffset + row)));
      lines.push(`${row}\t${label}\t${name}\n`);
      names.push(name);
      row++;
    }
  }
  await writeFile(join(root, 'data', `${channel}.lst`), lines.join(''));
  return names;
}

/** A valid manifest for a model with the given classes (figures made up; tests of I/O only). */
export function sampleManifest(jobName: string, classNames = ['bicycle', 'motorcycle']): ModelManifest {
  return {
    format: 'scones-image-classifier',
    formatVersion: 1,
    jobName,
    createdAt: '2024-01-01T00:00:00.000Z',
    classNames,
    preprocessing: { width: 32, height: 32, channels: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    modelPath: 'model.json',
    training: { seed: 1, epochs: 1, bestEpoch: 0, trainCount: 10, validationCount: 2, seconds: 1, history: [], hyperparameters: {} },
    threshold: { value: 0.9, targetPrecision: 0.98, precision: 1, coverage: 0.5 },
    baseline: { count: 2, confidences: [0.9, 0.8], predictedClassCounts: [1, 1], brightness: { r: [0.1, 0.2], g: [0.1, 0.2], b: [0.1, 0.2] } },
  };
}
