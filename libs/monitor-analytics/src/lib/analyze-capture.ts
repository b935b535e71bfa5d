import type { MonitoringBaseline } from './baseline';
import { CaptureAnalyzer, type CaptureAnalysis } from './capture-analyzer';
import { parseCaptureLine } from './capture-record';
import type { CaptureFile, CaptureSource, TimeWindow } from './capture-source';
import { checkDrift, DEFAULT_DRIFT_POLICY, type DriftPolicy, type DriftReport } from './drift';
import { readLines } from './line-reader';
import { TimeWindowError } from '../errors';

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
  const analyzer = new CaptureAnalyzer({
    classNames: baseline.classNames,
    threshold: baseline.threshold,
    imageSampleSize: options.imageSampleSize,
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
  const drift = checkDrift(
    baseline,
    { confidences: analysis.observations.confidences, classCounts: analysis.metrics.classCounts, brightness: analysis.observations.brightness },
    options.policy ?? DEFAULT_DRIFT_POLICY,
  );
  return {
    ...analysis,
    endpointName: options.endpointName,
    location: source.location,
    window: { since: window.since?.toISOString() ?? null, until: window.until?.toISOString() ?? null },
    files: { read: progress.filesRead, bytes: progress.bytes },
    drift,
  };
}
