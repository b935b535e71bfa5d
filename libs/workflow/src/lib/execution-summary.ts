import { parseLst, WorkflowErrorName } from '@scones/payload-schemas';
import type { ExecutionOutcome } from './execution';
import { summarizeLatencies, type LatencySummary } from './latency';

/** What happened to one image: one single-image execution, or one item of a batch execution. */
export interface ImageOutcome {
  s3_key: string;
  status: 'SUCCEEDED' | 'FAILED';
  error?: string;
  cause?: string;
  /** The class probabilities: of a passed image, or (local history) of one the filter rejected. */
  inferences?: number[];
  /** Single-image executions: the execution's duration. */
  durationMs?: number;
  executionArn?: string;
}

/** The ground truth of staged images, from a `.lst` manifest. */
export interface GroundTruth {
  /** Where it came from, e.g. `s3://scones/data/test.lst`. */
  source: string;
  /** The class label of an S3 key, or undefined if the manifest does not list it. */
  labelOf(s3Key: string): number | undefined;
}

export interface WorkflowSummary {
  images: number;
  succeeded: number;
  /** Failed with THRESHOLD_CONFIDENCE_NOT_MET: the filter rejected a low-confidence prediction. */
  thresholdNotMet: number;
  /** Failed with any other error. */
  failedOtherwise: number;
  /** Every failure, by error name. */
  failuresByError: Record<string, number>;
  /** Accuracy of the passed predictions against the ground truth (when one was given). */
  accuracy?: {
    source: string;
    /** Passed images the ground truth has a label for. */
    evaluated: number;
    correct: number;
    /** correct / evaluated, or null when nothing could be evaluated. */
    accuracy: number | null;
    /** Passed images the manifest does not list. */
    unlabeled: number;
  };
  /** Execution durations of single-image executions. */
  latencyMs?: LatencySummary;
}

/**
 * The `.lst` manifest's labels by S3 key. Paths in a `.lst` are relative to its channel: the
 * rows of `data/test.lst` name files in `data/test/`.
 */
export function groundTruthFromLst(text: string, lstKey: string, source = lstKey): GroundTruth {
  const channel = `${lstKey.replace(/\.lst$/, '')}/`;
  const labels = new Map(parseLst(text, source).map((row) => [`${channel}${row.path}`, row.label]));
  return { source, labelOf: (key) => labels.get(key) };
}

/** Index of the largest probability. */
export function topClass(inferences: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < inferences.length; i++) if (inferences[i] > inferences[best]) best = i;
  return best;
}

/** JSON text parsed, anything else as it is (course functions return `body` and `inferences` as JSON strings too). */
function maybeJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * The class probabilities in a step's result: `body.inferences` as the starter's contract has
 * them — also when `body` or `inferences` is a JSON string, or the result is still wrapped in the
 * `lambda:invoke` integration's `Payload` (a definition without `OutputPath`).
 */
function inferencesOf(value: unknown, depth = 0): number[] | undefined {
  const result = maybeJson(value) as { body?: unknown; Payload?: unknown; inferences?: unknown } | null;
  if (!result || typeof result !== 'object' || depth > 4) return undefined;
  const inferences = maybeJson(result.inferences);
  if (Array.isArray(inferences) && inferences.length > 0 && inferences.every((p) => typeof p === 'number')) return inferences as number[];
  // A course filter may wrap the classifier's whole answer again: `{"body": json.dumps(event)}`.
  return inferencesOf(result.Payload, depth + 1) ?? inferencesOf(result.body, depth + 1);
}

/** The error an execution that ended without one is counted under. */
const STATUS_ERROR: Record<ExecutionOutcome['status'], string> = {
  SUCCEEDED: '',
  FAILED: 'States.Runtime',
  TIMED_OUT: 'States.Timeout',
  ABORTED: 'ExecutionAborted',
};

/** One single-image execution as an image outcome. A non-SUCCEEDED status counts as failed. */
export function imageOutcomeOfExecution(outcome: ExecutionOutcome): ImageOutcome {
  const s3_key = String((outcome.input as { s3_key?: unknown } | null)?.s3_key ?? '');
  const common = { s3_key, durationMs: outcome.durationMs, executionArn: outcome.executionArn };
  if (outcome.status === 'SUCCEEDED') return { ...common, status: 'SUCCEEDED', inferences: inferencesOf(outcome.output) };
  // The history (when read) still has what the classifier said about a rejected image.
  const classified = [...(outcome.history ?? [])].reverse().find((e) => e.type.endsWith('StateExited') && inferencesOf(e.output));
  return {
    ...common,
    status: 'FAILED',
    error: outcome.error ?? STATUS_ERROR[outcome.status],
    ...(outcome.cause !== undefined ? { cause: outcome.cause } : {}),
    ...(classified ? { inferences: inferencesOf(classified.output) } : {}),
  };
}

interface BatchItem {
  s3_key?: unknown;
  inferences?: unknown;
  error?: unknown;
  cause?: unknown;
}

/**
 * The images of a SUCCEEDED batch execution (`{"results": [...]}`), in item order. A batch that
 * failed as a whole has no per-image results: the caller reports its error.
 */
export function imageOutcomesOfBatch(outcome: ExecutionOutcome): ImageOutcome[] {
  if (outcome.status !== 'SUCCEEDED') return [];
  const results = (outcome.output as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return [];
  return results.map((item: BatchItem) => {
    const s3_key = String(item?.s3_key ?? '');
    if (item?.error !== undefined) return { s3_key, status: 'FAILED', error: String(item.error), ...(item.cause !== undefined ? { cause: String(item.cause) } : {}) };
    const inferences = Array.isArray(item?.inferences) ? (item.inferences as number[]) : undefined;
    return { s3_key, status: 'SUCCEEDED', ...(inferences ? { inferences } : {}) };
  });
}

/** Counts outcomes, and scores the passed predictions against the ground truth when given. */
export function summarizeImageOutcomes(images: readonly ImageOutcome[], groundTruth?: GroundTruth): WorkflowSummary {
  const failuresByError: Record<string, number> = {};
  let succeeded = 0;
  let evaluated = 0;
  let correct = 0;
  let unlabeled = 0;
  for (const image of images) {
    if (image.status === 'FAILED') {
      const error = image.error ?? 'Unknown';
      failuresByError[error] = (failuresByError[error] ?? 0) + 1;
      continue;
    }
    succeeded++;
    if (!groundTruth || !image.inferences) continue;
    const label = groundTruth.labelOf(image.s3_key);
    if (label === undefined) {
      unlabeled++;
      continue;
    }
    evaluated++;
    if (topClass(image.inferences) === label) correct++;
  }
  const thresholdNotMet = failuresByError[WorkflowErrorName.ThresholdConfidenceNotMet] ?? 0;
  const durations = images.flatMap((i) => (i.durationMs === undefined ? [] : [i.durationMs]));
  const latencyMs = summarizeLatencies(durations);
  return {
    images: images.length,
    succeeded,
    thresholdNotMet,
    failedOtherwise: images.length - succeeded - thresholdNotMet,
    failuresByError,
    ...(groundTruth ? { accuracy: { source: groundTruth.source, evaluated, correct, accuracy: evaluated ? correct / evaluated : null, unlabeled } } : {}),
    ...(latencyMs ? { latencyMs } : {}),
  };
}
