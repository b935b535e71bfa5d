/**
 * The summary of `scones demo`, assembled from the `--json` results of the subcommands it ran
 * (their shapes are those commands' output contracts) and the endpoint's own counters.
 */

import { formatThreshold } from './format';

type Json = Record<string, unknown>;

export interface LatencyFigures {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface DemoSummary {
  ok: boolean;
  seconds: number;
  model: { jobName: string; trained: boolean; preset: string | null; testAccuracy: number | null; testImages: number | null; threshold: number | null };
  executions: {
    /** Images staged under data/test/: what the batch must account for. */
    expectedImages: number;
    batch: { images: number; passed: number; thresholdNotMet: number; failedOtherwise: number; seconds: number; status: string };
    stream: { executions: number; passed: number; thresholdNotMet: number; failedOtherwise: number; perSecond: number; latencyMs: LatencyFigures | null };
    /** Every staged test image has an outcome in the batch, and every outcome is counted once. */
    allAccountedFor: boolean;
  };
  /** Share of all executions (batch and stream) whose prediction passed the threshold. */
  passRate: number | null;
  /** Of the batch's passed predictions, the share that match data/test.lst. */
  passedPrecision: { correct: number; evaluated: number; value: number | null } | null;
  failuresByError: Record<string, number>;
  endpoint: { invocations: number; errors: number; captureRecords: number; capturePending: number } | null;
  monitoring: { recordsAnalyzed: number; driftViolations: string[]; verdict: 'no drift' | 'drift'; report: string };
}

/** The last `model server stopped` record of the endpoint's JSON log written since `since`. */
export interface EndpointCounters {
  responses: Record<string, number>;
  capture?: { written?: number; pending?: number };
}

const object = (value: unknown): Json => (value && typeof value === 'object' ? (value as Json) : {});
const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

function addCounts(into: Record<string, number>, from: unknown): void {
  for (const [name, n] of Object.entries(object(from))) into[name] = (into[name] ?? 0) + count(n);
}

export function summarizeDemo(parts: {
  seconds: number;
  jobName: string;
  trained: boolean;
  manifest: object | null;
  expectedImages: number;
  batch: Json;
  stream: Json;
  report: Json;
  endpoint: EndpointCounters | null;
}): DemoSummary {
  const manifest = object(parts.manifest);
  const test = object(manifest.test);
  const batchSummary = object(parts.batch.summary);
  const batchRun = object(parts.batch.batch);
  const load = object(parts.stream.report);
  const report = object(parts.report.summary);
  const accuracy = object(batchSummary.accuracy);

  const batch = {
    images: count(batchSummary.images),
    passed: count(batchSummary.succeeded),
    thresholdNotMet: count(batchSummary.thresholdNotMet),
    failedOtherwise: count(batchSummary.failedOtherwise),
    seconds: count(batchRun.durationMs) / 1000,
    status: String(batchRun.status ?? 'UNKNOWN'),
  };
  const latency = object(load.latencyMs);
  const stream = {
    executions: count(load.completed),
    passed: count(load.succeeded),
    thresholdNotMet: count(load.thresholdNotMet),
    failedOtherwise: count(load.failedOtherwise),
    perSecond: count(load.throughput),
    latencyMs: typeof latency.p50 === 'number' ? { p50: count(latency.p50), p90: count(latency.p90), p99: count(latency.p99), max: count(latency.max) } : null,
  };
  const failuresByError: Record<string, number> = {};
  addCounts(failuresByError, batchSummary.failuresByError);
  addCounts(failuresByError, load.failuresByError);
  const executions = batch.images + stream.executions;
  const drift = Array.isArray(object(report.drift).checks) ? (object(report.drift).checks as Json[]) : [];
  const violations = drift.filter((check) => check.status === 'violation').map((check) => String(check.metric));
  const endpoint = parts.endpoint && {
    invocations: Object.values(parts.endpoint.responses).reduce((a, b) => a + b, 0),
    errors: Object.entries(parts.endpoint.responses).reduce((a, [status, n]) => (status === '200' ? a : a + n), 0),
    captureRecords: count(parts.endpoint.capture?.written),
    capturePending: count(parts.endpoint.capture?.pending),
  };
  const allAccountedFor =
    batch.status === 'SUCCEEDED' && batch.images === parts.expectedImages && batch.passed + batch.thresholdNotMet + batch.failedOtherwise === batch.images;
  return {
    ok: allAccountedFor && batch.failedOtherwise + stream.failedOtherwise === 0,
    seconds: parts.seconds,
    model: {
      jobName: parts.jobName,
      trained: parts.trained,
      preset: typeof object(object(manifest.training).hyperparameters).preset === 'string' ? String(object(object(manifest.training).hyperparameters).preset) : null,
      testAccuracy: typeof test.accuracy === 'number' ? test.accuracy : null,
      testImages: typeof test.count === 'number' ? test.count : null,
      threshold: typeof object(manifest.threshold).value === 'number' ? (object(manifest.threshold).value as number) : null,
    },
    executions: { expectedImages: parts.expectedImages, batch, stream, allAccountedFor },
    passRate: executions > 0 ? (batch.passed + stream.passed) / executions : null,
    passedPrecision:
      typeof accuracy.evaluated === 'number'
        ? { correct: count(accuracy.correct), evaluated: accuracy.evaluated, value: typeof accuracy.accuracy === 'number' ? accuracy.accuracy : null }
        : null,
    failuresByError,
    endpoint,
    monitoring: {
      recordsAnalyzed: count(object(report.records).analyzed),
      driftViolations: violations,
      verdict: violations.length > 0 ? 'drift' : 'no drift',
      report: String(parts.report.report ?? ''),
    },
  };
}

const pct = (x: number | null | undefined) => (typeof x === 'number' ? `${(x * 100).toFixed(1)} %` : 'n/a');
const ms = (x: number) => (x < 10 ? `${x.toFixed(1)} ms` : `${Math.round(x)} ms`);

/** The closing table a person reads. */
export function renderDemoSummary(s: DemoSummary): string {
  const { batch, stream } = s.executions;
  const failures = Object.entries(s.failuresByError)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  const l = stream.latencyMs;
  const rows: Array<[string, string]> = [
    ['model', `${s.model.jobName} (${s.model.trained ? 'trained now' : 'reused'}${s.model.preset ? `, ${s.model.preset}` : ''})`],
    ['test accuracy', s.model.testAccuracy === null ? 'n/a' : `${s.model.testAccuracy.toFixed(3)} on ${s.model.testImages} images (computed once after training)`],
    ['threshold', s.model.threshold === null ? 'n/a' : formatThreshold(s.model.threshold)],
    [
      'batch (Map)',
      `${batch.images} of ${s.executions.expectedImages} test images in ${batch.seconds.toFixed(1)} s: ${batch.passed} passed, ${batch.thresholdNotMet} below threshold, ${batch.failedOtherwise} failed${s.executions.allAccountedFor ? '' : '  ← NOT ALL ACCOUNTED FOR'}`,
    ],
    ['stream', `${stream.executions} single executions at ${stream.perSecond.toFixed(1)}/s: ${stream.passed} passed, ${stream.thresholdNotMet} below threshold, ${stream.failedOtherwise} failed`],
    ['pass rate', `${pct(s.passRate)} of ${batch.images + stream.executions} executions passed the threshold`],
    ['passed precision', s.passedPrecision ? `${pct(s.passedPrecision.value)} (${s.passedPrecision.correct}/${s.passedPrecision.evaluated} passed batch predictions correct)` : 'n/a (no data/test.lst)'],
    ['failures by error', failures || 'none'],
    ['latency', l ? `single execution p50 ${ms(l.p50)}, p90 ${ms(l.p90)}, p99 ${ms(l.p99)}, max ${ms(l.max)}` : 'n/a'],
    [
      'endpoint',
      s.endpoint
        ? `${s.endpoint.invocations} invocations (${s.endpoint.errors} errors), ${s.endpoint.captureRecords} capture records${s.endpoint.capturePending ? `, ${s.endpoint.capturePending} NOT WRITTEN` : ''}`
        : 'n/a (no counters in its log)',
    ],
    ['drift', s.monitoring.verdict === 'drift' ? `drift: ${s.monitoring.driftViolations.join(', ')}` : `no drift (${s.monitoring.recordsAnalyzed} captured requests against the baseline)`],
    ['report', s.monitoring.report],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [`\nScones Unlimited demo ${s.ok ? 'finished' : 'finished with problems'} in ${s.seconds.toFixed(1)} s`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}
