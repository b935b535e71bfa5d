import type { MonitoringBaseline } from './baseline';
import { CaptureAnalyzer, type CaptureAnalysis } from './capture-analyzer';
import { parseCaptureLine } from './capture-record';
import type { CaptureFile, CaptureSource, TimeWindow } from './capture-source';
import { checkDrift, DEFAULT_DRIFT_POLICY, perCheckSignificance, type DriftPolicy, type DriftReport } from './drift';
import { analyzeEmbeddings, type EmbeddingObservations, type ImageEmbedder } from './embedding-drift';
import { readLines } from './line-reader';
import { statisticsFile, violationsFile } from './model-monitor/documents';
import type { ConstraintViolationsFile, StatisticsFile } from './model-monitor/schema';
import { MonitorAnalyticsError, TimeWindowError } from '../errors';

/**
 * Inputs embedded for embedding drift and the out-of-distribution share, by default: enough for
 * the drift test's power (it compares with the 100-200 validation images, so more traffic adds
 * little: n·m/(n+m) is 83 at 500 and 91 at 1 000 for n = 100) and for a share per timeline bucket;
 * embedding costs a few ms per 32×32 image on the full-size network, which keeps a report of
 * 100 000 requests within 10 s. More is an option (`embeddingSampleSize`).
 */
export const DEFAULT_EMBEDDING_SAMPLE_SIZE = 500;

export interface AnalyzeProgress {
  filesListed: number;
  filesRead: number;
  records: number;
  malformed: number;
  bytes: number;
}

export interface AnalyzeCaptureOptions {
  endpointName: string;
  source: CaptureSource;
  baseline: MonitoringBaseline;
  window?: TimeWindow;
  policy?: DriftPolicy;
  /** Capture files read at the same time (hides S3 latency; parsing stays on one core). Default 4. */
  concurrency?: number;
  imageSampleSize?: number;
  /** Computes the model's embeddings of sampled inputs; without it (or without embeddings in the baseline) the embedding checks are reported as not available. */
  embedder?: ImageEmbedder;
  /** Inputs embedded, at most (a uniform sample of the image sample). Default {@link DEFAULT_EMBEDDING_SAMPLE_SIZE}. */
  embeddingSampleSize?: number;
  exampleCount?: number;
  signal?: AbortSignal;
  /** Called after the listing and after each file. */
  onProgress?: (progress: AnalyzeProgress) => void;
}

export interface MonitoringAnalysis extends CaptureAnalysis {
  endpointName: string;
  /** Where the capture files came from. */
  location: string;
  window: { since: string | null; until: string | null };
  files: { read: number; bytes: number };
  drift: DriftReport;
  /** The embedding sample: distances, out-of-distribution flags, picture coordinates, the drift test. */
  embedding: EmbeddingObservations | { unavailable: string };
  /** The window in Model Monitor's formats. */
  modelMonitor: { statistics: StatisticsFile; violations: ConstraintViolationsFile };
}

/**
 * Reads an endpoint's capture files for a time window, validates every line, computes the
 * monitoring metrics and checks drift against the model's baseline. Malformed lines are counted
 * and listed with file and line; they never stop the analysis.
 */
export async function analyzeCapture(options: AnalyzeCaptureOptions): Promise<MonitoringAnalysis> {
  const { source, baseline, signal } = options;
  const window = options.window ?? {};
  if (window.since && window.until && window.since.getTime() >= window.until.getTime()) {
    throw new TimeWindowError(`empty time window: since ${window.since.toISOString()} is not before until ${window.until.toISOString()}`);
  }
  const since = window.since?.getTime() ?? -Infinity;
  const until = window.until?.getTime() ?? Infinity;
  const classCount = baseline.classNames.length;
  const embeddingSampleSize = options.embeddingSampleSize ?? DEFAULT_EMBEDDING_SAMPLE_SIZE;
  if (!Number.isInteger(embeddingSampleSize) || embeddingSampleSize < 0) throw new MonitorAnalyticsError(`embeddingSampleSize: expected a whole number >= 0, got ${embeddingSampleSize}`);
  const embeddingWanted = Boolean(baseline.embedding && options.embedder && embeddingSampleSize > 0);
  const analyzer = new CaptureAnalyzer({
    classNames: baseline.classNames,
    threshold: baseline.threshold,
    imageSampleSize: options.imageSampleSize,
    embeddingSampleSize: embeddingWanted ? embeddingSampleSize : 0,
    exampleCount: options.exampleCount,
  });

  const files: CaptureFile[] = [];
  for await (const file of source.listFiles(window, signal)) files.push(file);
  const progress: AnalyzeProgress = { filesListed: files.length, filesRead: 0, records: 0, malformed: 0, bytes: 0 };
  options.onProgress?.({ ...progress });

  const readFile = async (file: CaptureFile) => {
    const counted = async function* (chunks: AsyncIterable<Uint8Array>) {
      for await (const chunk of chunks) {
        progress.bytes += chunk.byteLength;
        yield chunk;
      }
    };
    for await (const { number, text } of readLines(counted(source.openFile(file, signal)))) {
      if (text.trim() === '') continue; // a blank line holds no record
      const parsed = parseCaptureLine(text, file.key, number, classCount);
      if (!parsed.ok) {
        analyzer.addMalformed(parsed.malformed);
        progress.malformed += 1;
      } else if (parsed.record.time < since || parsed.record.time >= until) {
        analyzer.addOutsideWindow();
      } else {
        analyzer.add(parsed.record);
        progress.records += 1;
      }
    }
    progress.filesRead += 1;
    options.onProgress?.({ ...progress });
  };

  // A small pool: each worker takes the next file; results do not depend on the order.
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, files.length)) }, async () => {
    while (next < files.length) {
      signal?.throwIfAborted();
      await readFile(files[next++]);
    }
  });
  await Promise.all(workers);
  signal?.throwIfAborted();

  const analysis = analyzer.finish();
  const policy = options.policy ?? DEFAULT_DRIFT_POLICY;
  const embedding = await embedSample(analysis, baseline, options, embeddingSampleSize, perCheckSignificance(policy));
  signal?.throwIfAborted();
  const images = analysis.metrics.images;
  const drift = checkDrift(
    baseline,
    {
      confidences: analysis.observations.confidences,
      classCounts: analysis.metrics.classCounts,
      brightness: analysis.observations.brightness,
      images: { sampled: images.sampled, undecodable: images.undecodable, sizes: images.sizes },
      embedding,
    },
    policy,
  );
  const statistics = statisticsFile({
    itemCount: analysis.metrics.records.analyzed,
    confidences: analysis.observations.confidences,
    classNames: analysis.metrics.classNames,
    classCounts: analysis.metrics.classCounts,
    brightness: analysis.observations.brightness,
    undecodable: images.undecodable,
    imageSizes: images.sizes,
    embeddingDistances: 'unavailable' in embedding ? undefined : embedding.inputs.map((x) => x.distance),
  });
  return {
    ...analysis,
    endpointName: options.endpointName,
    location: source.location,
    window: { since: window.since?.toISOString() ?? null, until: window.until?.toISOString() ?? null },
    files: { read: progress.filesRead, bytes: progress.bytes },
    drift,
    embedding,
    modelMonitor: { statistics, violations: violationsFile(drift.checks) },
  };
}

/** Embeds the sampled inputs, analyses them against the baseline and counts out-of-distribution inputs per timeline bucket. */
async function embedSample(
  analysis: CaptureAnalysis,
  baseline: MonitoringBaseline,
  options: AnalyzeCaptureOptions,
  sampleLimit: number,
  alpha: number,
): Promise<EmbeddingObservations | { unavailable: string }> {
  if (!baseline.embedding) return { unavailable: 'the model manifest has no embeddings (trained before embedding monitoring); retrain to get them' };
  if (!options.embedder) return { unavailable: 'no model was loaded to embed the captured inputs' };
  if (sampleLimit === 0) return { unavailable: 'the embedding sample size is 0' };
  const candidates = analysis.embeddingCandidates;
  analysis.embeddingCandidates = [];
  const vectors = candidates.length ? await options.embedder.embed(candidates.map((c) => c.image)) : [];
  if (vectors.length !== candidates.length) throw new MonitorAnalyticsError(`the embedder returned ${vectors.length} embeddings for ${candidates.length} images`);
  const policy = options.policy ?? DEFAULT_DRIFT_POLICY;
  const observations = analyzeEmbeddings(
    baseline.embedding,
    candidates.map((c, i) => ({ time: c.time, contentKey: c.contentKey, embedding: vectors[i] })),
    sampleLimit,
    { permutations: policy.embeddingPermutations, alpha },
  );
  const { bucketSeconds, buckets } = analysis.metrics.timeline;
  if (buckets.length) {
    const width = bucketSeconds * 1000;
    const origin = Date.parse(buckets[0].start);
    for (const input of observations.inputs) {
      const bucket = buckets[Math.floor((input.time - origin) / width)];
      if (!bucket) continue;
      bucket.embedded += 1;
      if (input.outOfDistribution) bucket.outOfDistribution += 1;
    }
  }
  return observations;
}
