import { createHash } from 'node:crypto';
import { channelMeans, decodeImage, sniffImageFormat, type RgbImage } from '@scones/image-classifier/decode';
import { BoundedHeap } from './bounded-heap';
import type { CapturedInference, MalformedLine } from './capture-record';
import { describeDistribution, histogram, quantileSorted, sortedCopy, type Distribution, type HistogramBin } from './statistics';
import { chooseBucketSeconds } from './time-buckets';

export interface CaptureAnalyzerOptions {
  classNames: readonly string[];
  /** Confidence below which the filter step rejects a prediction. */
  threshold: number;
  /**
   * At most this many inputs are decoded for image statistics (a uniform random sample, the same
   * for the same records whatever the order they are read in). Decoding is ~70 µs per 32×32 PNG,
   * most of the cost of a large run; 10 000 samples estimate brightness quantiles to ±1 %.
   */
  imageSampleSize?: number;
  /**
   * At most this many of the sampled, decodable inputs are kept for embedding (the first by the
   * same hash order, so a uniform sample of the sample). Default 0: none.
   */
  embeddingSampleSize?: number;
  /** Number of recent and of lowest-confidence inputs kept for the report's thumbnails. */
  exampleCount?: number;
  /** Malformed lines listed individually (all are counted). */
  malformedListLimit?: number;
  /** Confidence histogram bins over [0, 1]. */
  histogramBins?: number;
}

/** An input kept for the report: the image as captured with what the model said about it. */
export interface InputExample {
  eventId: string;
  time: string;
  file: string;
  line: number;
  contentType: string;
  /** `png` / `jpeg` by magic bytes; undefined when it is neither. */
  format?: 'png' | 'jpeg';
  imageBase64: string;
  probabilities: number[];
  predictedClass: number;
  predictedLabel: string;
  confidence: number;
  belowThreshold: boolean;
}

export interface TimeBucket {
  /** Bucket start (ISO, UTC). */
  start: string;
  count: number;
  belowThreshold: number;
  /** Requests per predicted class, class order of the model. */
  classCounts: number[];
  /** Confidence median and 10th/90th percentiles in the bucket (null when empty). */
  confidenceP10: number | null;
  confidenceP50: number | null;
  confidenceP90: number | null;
  /** Inputs of the embedding sample in the bucket, and how many of them were out of distribution (0 without embeddings). */
  embedded: number;
  outOfDistribution: number;
}

export interface ImageStatistics {
  /** Inputs decoded for the statistics below (a uniform sample of at most `sampleLimit`). */
  sampled: number;
  sampleLimit: number;
  /** Sampled inputs that are not a decodable PNG/JPEG. */
  undecodable: number;
  undecodableExamples: MalformedLine[];
  /** Request body size in bytes, over every record. */
  byteSize: Distribution;
  /** Image dimensions among the sampled inputs, most frequent first. */
  dimensions: Array<{ width: number; height: number; count: number }>;
  /** The same as `"<width>x<height>"` → count (Model Monitor's image_size feature). */
  sizes: Record<string, number>;
  /** Content types the endpoint saw, over every record. */
  contentTypes: Record<string, number>;
  /** Per-image mean brightness (0..1) of each channel, over the sampled inputs. */
  brightness: { r: Distribution; g: Distribution; b: Distribution };
}

/** The JSON-friendly figures of a capture analysis (what summary.json holds). */
export interface CaptureMetrics {
  classNames: string[];
  threshold: number;
  /** First and last inferenceTime seen (ISO), null without records. */
  firstTime: string | null;
  lastTime: string | null;
  records: {
    /** Valid records inside the time window: what every figure below is computed from. */
    analyzed: number;
    /** Valid records outside the window (their files straddle its edges). */
    outsideWindow: number;
    malformed: number;
  };
  /** Malformed lines with file and line (the first `malformedListLimit`; `malformedOmitted` more). */
  malformedLines: MalformedLine[];
  malformedOmitted: number;
  rate: {
    durationSeconds: number;
    /** Requests per minute over [firstTime, lastTime]; null with fewer than two records. */
    perMinute: number | null;
    /** Busiest timeline bucket, in requests per minute. */
    peakPerMinute: number | null;
  };
  classCounts: number[];
  confidence: {
    distribution: Distribution;
    quantiles: Array<{ p: number; value: number }>;
    histogram: HistogramBin[];
    belowThreshold: { count: number; share: number | null };
  };
  timeline: { bucketSeconds: number; buckets: TimeBucket[] };
  images: ImageStatistics;
}

/** Per-record observations the drift checks and the charts need (large: not for summary.json). */
export interface CaptureObservations {
  times: Float64Array;
  confidences: Float64Array;
  predictedClasses: Uint16Array;
  /** Per-image channel means of the sampled inputs. */
  brightness: { r: number[]; g: number[]; b: number[] };
}

/** A sampled, decoded input kept for embedding. */
export interface EmbeddingCandidate {
  time: number;
  /** Digest of the request body: equal for repeated images. */
  contentKey: string;
  image: RgbImage;
}

export interface CaptureAnalysis {
  metrics: CaptureMetrics;
  observations: CaptureObservations;
  examples: { recent: InputExample[]; lowestConfidence: InputExample[] };
  /** Decoded inputs to embed (at most `embeddingSampleSize`), in sample order. */
  embeddingCandidates: EmbeddingCandidate[];
}

export const REPORTED_QUANTILES = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];

/** FNV-1a with a murmur3 finaliser: a well-mixed 32-bit hash for order-independent sampling. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

interface SampledInput {
  key: number;
  time: number;
  imageBase64: string;
  file: string;
  line: number;
}

/** Growable numeric column (amortised O(1) append, compact typed storage). */
class Column<A extends Float64Array | Uint16Array> {
  private data: A;
  length = 0;
  constructor(private readonly make: (n: number) => A) {
    this.data = make(1024);
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  values(): A {
    return this.data.subarray(0, this.length) as A;
  }
}

/**
 * Streams capture records into the monitoring metrics in one pass: O(1) work per record plus
 * O(log k) for the bounded example/sample heaps; memory is three numbers per record plus the
 * bounded heaps. `finish()` sorts once and decodes the image sample.
 */
export class CaptureAnalyzer {
  private readonly classNames: string[];
  private readonly threshold: number;
  private readonly imageSampleSize: number;
  private readonly embeddingSampleSize: number;
  private readonly malformedListLimit: number;
  private readonly histogramBins: number;
  private readonly times = new Column((n) => new Float64Array(n));
  private readonly confidences = new Column((n) => new Float64Array(n));
  private readonly classes = new Column((n) => new Uint16Array(n));
  private readonly byteSizes = new Column((n) => new Float64Array(n));
  private readonly contentTypes = new Map<string, number>();
  private readonly malformed: MalformedLine[] = [];
  private malformedCount = 0;
  private outsideWindow = 0;
  private readonly recent: BoundedHeap<CapturedInference>;
  private readonly lowest: BoundedHeap<CapturedInference>;
  private readonly sample: BoundedHeap<SampledInput>;

  constructor(options: CaptureAnalyzerOptions) {
    this.classNames = [...options.classNames];
    this.threshold = options.threshold;
    this.imageSampleSize = options.imageSampleSize ?? 10_000;
    this.embeddingSampleSize = options.embeddingSampleSize ?? 0;
    this.malformedListLimit = options.malformedListLimit ?? 200;
    this.histogramBins = options.histogramBins ?? 40;
    const examples = options.exampleCount ?? 12;
    // Ties are broken by file and line so the kept set does not depend on reading order.
    const byPosition = (a: CapturedInference, b: CapturedInference) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line);
    this.recent = new BoundedHeap(examples, (a, b) => b.time - a.time || byPosition(a, b));
    this.lowest = new BoundedHeap(examples, (a, b) => a.confidence - b.confidence || byPosition(a, b));
    this.sample = new BoundedHeap(this.imageSampleSize, (a, b) => a.key - b.key || (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  }

  add(record: CapturedInference): void {
    this.times.push(record.time);
    this.confidences.push(record.confidence);
    this.classes.push(record.predictedClass);
    this.byteSizes.push(record.inputBytes);
    this.contentTypes.set(record.contentType, (this.contentTypes.get(record.contentType) ?? 0) + 1);
    this.recent.push(record);
    this.lowest.push(record);
    const key = hash32(`${record.eventId}\n${record.file}\n${record.line}`);
    const probe: SampledInput = { key, time: record.time, imageBase64: record.inputBase64, file: record.file, line: record.line };
    this.sample.push(probe);
  }

  addMalformed(line: MalformedLine): void {
    this.malformedCount += 1;
    if (this.malformed.length < this.malformedListLimit) this.malformed.push(line);
  }

  addOutsideWindow(): void {
    this.outsideWindow += 1;
  }

  get analyzedCount(): number {
    return this.times.length;
  }

  finish(): CaptureAnalysis {
    const times = this.times.values();
    const confidences = this.confidences.values();
    const classes = this.classes.values();
    const n = times.length;
    const classCounts = new Array<number>(this.classNames.length).fill(0);
    let below = 0;
    let first = Infinity;
    let last = -Infinity;
    for (let i = 0; i < n; i++) {
      classCounts[classes[i]] += 1;
      if (confidences[i] < this.threshold) below += 1;
      if (times[i] < first) first = times[i];
      if (times[i] > last) last = times[i];
    }
    const sortedConfidences = sortedCopy(confidences);
    const timeline = this.timeline(first, last);
    const durationSeconds = n ? (last - first) / 1000 : 0;
    const peak = timeline.buckets.reduce((max, b) => Math.max(max, b.count), 0);
    const { statistics: images, brightness, embeddingCandidates } = this.imageStatistics();
    const malformed = [...this.malformed].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
    return {
      metrics: {
        classNames: [...this.classNames],
        threshold: this.threshold,
        firstTime: n ? new Date(first).toISOString() : null,
        lastTime: n ? new Date(last).toISOString() : null,
        records: { analyzed: n, outsideWindow: this.outsideWindow, malformed: this.malformedCount },
        malformedLines: malformed,
        malformedOmitted: this.malformedCount - malformed.length,
        rate: {
          durationSeconds,
          perMinute: n > 1 && durationSeconds > 0 ? (n / durationSeconds) * 60 : null,
          peakPerMinute: n ? (peak / timeline.bucketSeconds) * 60 : null,
        },
        classCounts,
        confidence: {
          distribution: describeDistribution(sortedConfidences),
          quantiles: REPORTED_QUANTILES.map((p) => ({ p, value: quantileSorted(sortedConfidences, p) })),
          histogram: histogram(sortedConfidences, 0, 1, this.histogramBins),
          belowThreshold: { count: below, share: n ? below / n : null },
        },
        timeline,
        images,
      },
      observations: { times, confidences, predictedClasses: classes, brightness },
      examples: {
        recent: this.recent.sorted().map((r) => this.example(r)),
        lowestConfidence: this.lowest.sorted().map((r) => this.example(r)),
      },
      embeddingCandidates,
    };
  }

  private timeline(first: number, last: number): CaptureMetrics['timeline'] {
    const n = this.times.length;
    if (n === 0) return { bucketSeconds: 60, buckets: [] };
    const bucketSeconds = chooseBucketSeconds(first, last);
    const width = bucketSeconds * 1000;
    const origin = Math.floor(first / width);
    const count = Math.floor(last / width) - origin + 1;
    const times = this.times.values();
    const confidences = this.confidences.values();
    const classes = this.classes.values();
    const perBucket: number[][] = Array.from({ length: count }, () => []);
    const below = new Array<number>(count).fill(0);
    const classCounts = Array.from({ length: count }, () => new Array<number>(this.classNames.length).fill(0));
    for (let i = 0; i < n; i++) {
      const b = Math.floor(times[i] / width) - origin;
      perBucket[b].push(confidences[i]);
      classCounts[b][classes[i]] += 1;
      if (confidences[i] < this.threshold) below[b] += 1;
    }
    return {
      bucketSeconds,
      buckets: perBucket.map((values, b) => {
        const sorted = sortedCopy(values);
        const q = (p: number) => (sorted.length ? quantileSorted(sorted, p) : null);
        return {
          start: new Date((origin + b) * width).toISOString(),
          count: values.length,
          belowThreshold: below[b],
          classCounts: classCounts[b],
          confidenceP10: q(0.1),
          confidenceP50: q(0.5),
          confidenceP90: q(0.9),
          embedded: 0,
          outOfDistribution: 0,
        };
      }),
    };
  }

  private imageStatistics(): { statistics: ImageStatistics; brightness: CaptureObservations['brightness']; embeddingCandidates: EmbeddingCandidate[] } {
    const brightness = { r: [] as number[], g: [] as number[], b: [] as number[] };
    const embeddingCandidates: EmbeddingCandidate[] = [];
    const dimensions = new Map<string, { width: number; height: number; count: number }>();
    const undecodableExamples: MalformedLine[] = [];
    let undecodable = 0;
    const sample = this.sample.sorted();
    for (const item of sample) {
      try {
        const image = decodeImage(Buffer.from(item.imageBase64, 'base64'));
        const means = channelMeans(image);
        brightness.r.push(means.r);
        brightness.g.push(means.g);
        brightness.b.push(means.b);
        const key = `${image.width}x${image.height}`;
        const entry = dimensions.get(key) ?? { width: image.width, height: image.height, count: 0 };
        entry.count += 1;
        dimensions.set(key, entry);
        if (embeddingCandidates.length < this.embeddingSampleSize) {
          embeddingCandidates.push({ time: item.time, contentKey: createHash('sha1').update(item.imageBase64).digest('base64'), image });
        }
      } catch (error) {
        undecodable += 1;
        if (undecodableExamples.length < 20) undecodableExamples.push({ file: item.file, line: item.line, reason: (error as Error).message });
      }
    }
    return {
      brightness,
      embeddingCandidates,
      statistics: {
        sampled: sample.length,
        sampleLimit: this.imageSampleSize,
        undecodable,
        undecodableExamples,
        byteSize: describeDistribution(this.byteSizes.values()),
        dimensions: [...dimensions.values()].sort((a, b) => b.count - a.count),
        sizes: Object.fromEntries([...dimensions.entries()].map(([k, v]) => [k, v.count])),
        contentTypes: Object.fromEntries([...this.contentTypes.entries()].sort((a, b) => b[1] - a[1])),
        brightness: { r: describeDistribution(brightness.r), g: describeDistribution(brightness.g), b: describeDistribution(brightness.b) },
      },
    };
  }

  private example(record: CapturedInference): InputExample {
    let format: 'png' | 'jpeg' | undefined;
    try {
      format = sniffImageFormat(Buffer.from(record.inputBase64.slice(0, 16), 'base64'));
    } catch {
      format = undefined;
    }
    return {
      eventId: record.eventId,
      time: new Date(record.time).toISOString(),
      file: record.file,
      line: record.line,
      contentType: record.contentType,
      format,
      imageBase64: record.inputBase64,
      probabilities: record.probabilities,
      predictedClass: record.predictedClass,
      predictedLabel: this.classNames[record.predictedClass] ?? String(record.predictedClass),
      confidence: record.confidence,
      belowThreshold: record.confidence < this.threshold,
    };
  }
}
