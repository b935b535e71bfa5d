import { randomUUID } from 'node:crypto';
import { channelMeans, encodePng, type RgbImage } from '@scones/image-classifier/decode';
import { dataCaptureKey, encodeFloat32Matrix, type DataCaptureRecord, type ModelManifest } from '@scones/payload-schemas';
import { seededRandom } from './random';

export { seededRandom };

/**
 * Deterministic building blocks for tests, benchmarks and demos of monitoring: capture records
 * in SageMaker's format, images with a chosen brightness profile, and a model manifest around a
 * given baseline. Nothing here is used on the production path.
 */

/** A standard normal draw (Box-Muller). */
export function normalSample(random: () => number): number {
  const u = Math.max(random(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * An image whose per-channel mean brightness is `means` (0..1), with uniform pixel noise of
 * standard deviation `noise` (0..1) and a soft vertical gradient so it is not flat. The pixel loop
 * uses integer arithmetic only: Math builtins are ~50x slower inside Jest's vm contexts.
 */
export function syntheticImage(random: () => number, means: { r: number; g: number; b: number }, options: { width?: number; height?: number; noise?: number } = {}): RgbImage {
  const width = options.width ?? 32;
  const height = options.height ?? 32;
  // Uniform on [-a, a] has standard deviation a / sqrt(3).
  const amplitude = (options.noise ?? 0.08) * 1.7320508 * 255;
  const data = new Uint8Array(width * height * 3);
  const channels = [means.r * 255, means.g * 255, means.b * 255];
  let state = ((random() * 0xffffffff) | 0) || 1;
  let i = 0;
  for (let y = 0; y < height; y++) {
    const gradient = (y / (height > 1 ? height - 1 : 1) - 0.5) * 0.1 * 255;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        // xorshift32: a uniform integer, mapped to [-1, 1).
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        const v = channels[c] + gradient + amplitude * (state / 2147483648);
        data[i++] = v <= 0 ? 0 : v >= 255 ? 255 : (v + 0.5) | 0;
      }
    }
  }
  return { width, height, data };
}

/** Probabilities with `confidence` on `predictedClass` and the rest spread evenly. */
export function probabilitiesFor(predictedClass: number, confidence: number, classCount: number): number[] {
  const rest = (1 - confidence) / (classCount - 1);
  return Array.from({ length: classCount }, (_, k) => (k === predictedClass ? confidence : rest));
}

/** One data-capture record as the endpoint writes it (input base64, output JSON text). */
export function createCaptureRecord(options: {
  time: Date;
  image: Uint8Array | RgbImage;
  probabilities: number[];
  eventId?: string;
  contentType?: string;
}): DataCaptureRecord {
  const bytes = options.image instanceof Uint8Array ? options.image : encodePng(options.image);
  return {
    captureData: {
      endpointInput: { observedContentType: options.contentType ?? 'image/png', mode: 'INPUT', data: Buffer.from(bytes).toString('base64'), encoding: 'BASE64' },
      endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', data: JSON.stringify(options.probabilities), encoding: 'JSON' },
    },
    eventMetadata: { eventId: options.eventId ?? randomUUID(), inferenceTime: options.time.toISOString() },
    eventVersion: '0',
  };
}

/**
 * Groups JSONL lines into capture files the way the endpoint does: a new file (named after its
 * first record's time) every `recordsPerFile` records. Returns key → file contents.
 */
export function captureFiles(endpointName: string, records: Array<{ time: Date; line: string }>, recordsPerFile = 100): Map<string, string> {
  const files = new Map<string, string>();
  const sorted = [...records].sort((a, b) => a.time.getTime() - b.time.getTime());
  for (let i = 0; i < sorted.length; i += recordsPerFile) {
    const chunk = sorted.slice(i, i + recordsPerFile);
    const key = dataCaptureKey({ endpointName, time: chunk[0].time, id: `${String(i).padStart(8, '0')}-synthetic` });
    files.set(key, chunk.map((r) => r.line).join('\n') + '\n');
  }
  return files;
}

/** A valid model manifest around a baseline (fixed training figures), for tests and demos. */
export function syntheticManifest(options: {
  classNames?: string[];
  threshold?: number;
  jobName?: string;
  baseline: ModelManifest['baseline'];
}): ModelManifest {
  const classNames = options.classNames ?? ['bicycle', 'motorcycle'];
  return {
    format: 'scones-image-classifier',
    formatVersion: 1,
    jobName: options.jobName ?? 'synthetic-job',
    createdAt: '2026-01-01T00:00:00.000Z',
    classNames,
    preprocessing: { width: 32, height: 32, channels: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    modelPath: 'model/model.json',
    training: { seed: 1, epochs: 1, bestEpoch: 0, trainCount: 0, validationCount: options.baseline.count, seconds: 0, history: [], hyperparameters: {} },
    threshold: { value: options.threshold ?? 0.8, targetPrecision: 0.95, precision: 0.95, coverage: 0.8 },
    baseline: options.baseline,
  };
}

/** How synthetic traffic looks: what the images' brightness and the model's answers are drawn from. */
export interface TrafficProfile {
  /** Draws one image's per-channel mean brightness (0..1). */
  brightness(random: () => number): { r: number; g: number; b: number };
  /** Draws a predicted class. */
  predictedClass(random: () => number): number;
  /** Draws the top-1 confidence of a prediction. */
  confidence(random: () => number): number;
}

const clamp01 = (x: number) => Math.min(0.98, Math.max(0.02, x));

/**
 * Roughly the statistics of CIFAR-100 bicycle/motorcycle photos (per-image channel means around
 * 0.45 with a spread of 0.12, channels correlated) and of a confident two-class model.
 */
export const cifarLikeProfile = (overrides: Partial<TrafficProfile> = {}): TrafficProfile => ({
  brightness: (random) => {
    const level = 0.46 + 0.12 * normalSample(random);
    return { r: clamp01(level + 0.03 * normalSample(random)), g: clamp01(level - 0.01 + 0.03 * normalSample(random)), b: clamp01(level - 0.04 + 0.04 * normalSample(random)) };
  },
  predictedClass: (random) => (random() < 0.5 ? 0 : 1),
  // Skewed towards 1 like a trained model's softmax: median ~0.93.
  confidence: (random) => 0.5 + 0.5 * Math.pow(random(), 0.25),
  ...overrides,
});

/** Draws a manifest baseline (validation-like sample) from a profile. */
export function syntheticBaseline(random: () => number, count: number, profile: TrafficProfile, classCount = 2): ModelManifest['baseline'] {
  const confidences: number[] = [];
  const predictedClassCounts = new Array<number>(classCount).fill(0);
  const brightness = { r: [] as number[], g: [] as number[], b: [] as number[] };
  for (let i = 0; i < count; i++) {
    confidences.push(profile.confidence(random));
    predictedClassCounts[profile.predictedClass(random)] += 1;
    const means = channelMeans(syntheticImage(random, profile.brightness(random)));
    brightness.r.push(means.r);
    brightness.g.push(means.g);
    brightness.b.push(means.b);
  }
  return { count, confidences, predictedClassCounts, brightness };
}

/**
 * `count` capture records drawn from a profile, one every `intervalMs` from `start`. With
 * `distinctImages`, inputs are drawn from a pool of that many images (encoding a PNG per record
 * dominates the cost of large fixtures); predictions and times stay per record.
 */
export function syntheticTraffic(options: {
  random: () => number;
  count: number;
  start: Date;
  intervalMs: number;
  profile: TrafficProfile;
  classCount?: number;
  distinctImages?: number;
}): Array<{ time: Date; line: string }> {
  const { random, profile } = options;
  const classCount = options.classCount ?? 2;
  const poolSize = Math.min(options.distinctImages ?? options.count, options.count);
  const pool = Array.from({ length: poolSize }, () => encodePng(syntheticImage(random, profile.brightness(random))));
  return Array.from({ length: options.count }, (_, i) => {
    const time = new Date(options.start.getTime() + i * options.intervalMs);
    const image = poolSize === options.count ? pool[i] : pool[Math.floor(random() * poolSize)];
    const probabilities = probabilitiesFor(profile.predictedClass(random), profile.confidence(random), classCount);
    const eventId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    return { time, line: JSON.stringify(createCaptureRecord({ time, image, probabilities, eventId })) };
  });
}

/**
 * A small, deterministic stand-in for a model's embedding, for tests of the embedding checks
 * without TensorFlow.js: each quadrant's per-channel mean and standard deviation (24 values).
 * Images of another colour profile land elsewhere in this space, as other classes do in a model's.
 */
export function colourFeatures(image: RgbImage): Float32Array {
  const out = new Float32Array(24);
  const halfW = image.width / 2;
  const halfH = image.height / 2;
  const sums = new Float64Array(12);
  const squares = new Float64Array(12);
  const counts = new Float64Array(4);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const q = (y < halfH ? 0 : 2) + (x < halfW ? 0 : 1);
      counts[q] += 1;
      for (let c = 0; c < 3; c++) {
        const v = image.data[(y * image.width + x) * 3 + c] / 255;
        sums[q * 3 + c] += v;
        squares[q * 3 + c] += v * v;
      }
    }
  }
  for (let i = 0; i < 12; i++) {
    const n = counts[Math.floor(i / 3)] || 1;
    const mean = sums[i] / n;
    out[i] = mean;
    out[12 + i] = Math.sqrt(Math.max(0, squares[i] / n - mean * mean));
  }
  return out;
}

/** {@link colourFeatures} as an embedder (what `Classifier.embed` is to a real model). */
export const colourEmbedder = { embed: async (images: RgbImage[]) => images.map(colourFeatures) };

/** A manifest baseline's `embedding`: {@link colourFeatures} of validation and training images drawn from a profile. */
export function syntheticEmbeddingBaseline(random: () => number, profile: TrafficProfile, counts: { validation: number; training: number }): NonNullable<ModelManifest['baseline']['embedding']> {
  const rows = (n: number) => Array.from({ length: n }, () => normalizeRow(colourFeatures(syntheticImage(random, profile.brightness(random)))));
  return { layer: 'stages', normalization: 'l2', validation: encodeFloat32Matrix(rows(counts.validation)), training: encodeFloat32Matrix(rows(counts.training)) };
}

function normalizeRow(v: Float32Array): Float32Array {
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}
