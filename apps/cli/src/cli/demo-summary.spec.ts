import { renderDemoSummary, summarizeDemo } from './demo-summary';

// Results in the shapes `scones run --all`, `scones load` and `scones report` print with --json.
const batch = (overrides: Record<string, unknown> = {}) => ({
  command: 'run',
  batch: { status: 'SUCCEEDED', durationMs: 1100 },
  summary: {
    images: 200,
    succeeded: 120,
    thresholdNotMet: 78,
    failedOtherwise: 2,
    failuresByError: { THRESHOLD_CONFIDENCE_NOT_MET: 78, ImageNotFound: 2 },
    accuracy: { source: 's3://scones/data/test.lst', evaluated: 120, correct: 118, accuracy: 118 / 120, unlabeled: 0 },
    ...overrides,
  },
});
const stream = {
  command: 'load',
  report: { completed: 60, succeeded: 32, thresholdNotMet: 28, failedOtherwise: 0, failuresByError: { THRESHOLD_CONFIDENCE_NOT_MET: 28 }, throughput: 20.3, latencyMs: { p50: 8.2, p90: 11, p99: 26, max: 30 } },
};
const report = (checks: Array<{ metric: string; status: string }>) => ({
  command: 'report',
  report: '/tmp/r/report.html',
  summary: { records: { analyzed: 258 }, drift: { violations: checks.filter((c) => c.status === 'violation').length, checks } },
});
const manifest = { training: { hyperparameters: { preset: 'quick' } }, test: { count: 200, accuracy: 0.895 }, threshold: { value: 0.83 } };
const parts = {
  seconds: 28.6,
  jobName: 'job-1',
  trained: true,
  manifest,
  expectedImages: 200,
  batch: batch(),
  stream,
  report: report([{ metric: 'confidence_psi', status: 'ok' }]),
  endpoint: { responses: { '200': 258, '424': 2 }, capture: { written: 258, pending: 0 } },
};

describe('summarizeDemo', () => {
  it('adds up batch and stream, and merges failures by error name', () => {
    const s = summarizeDemo(parts);
    expect(s.passRate).toBeCloseTo((120 + 32) / 260);
    expect(s.passedPrecision).toEqual({ correct: 118, evaluated: 120, value: 118 / 120 });
    expect(s.failuresByError).toEqual({ THRESHOLD_CONFIDENCE_NOT_MET: 106, ImageNotFound: 2 });
    expect(s.endpoint).toEqual({ invocations: 260, errors: 2, captureRecords: 258, capturePending: 0 });
    expect(s.model).toEqual({ jobName: 'job-1', trained: true, preset: 'quick', testAccuracy: 0.895, testImages: 200, threshold: 0.83 });
    expect(s.executions.allAccountedFor).toBe(true);
    // Two images failed otherwise than by the threshold: the run is not ok.
    expect(s.ok).toBe(false);
  });

  it('is ok only when every staged image has an outcome and nothing failed otherwise', () => {
    const clean = batch({ succeeded: 122, failedOtherwise: 0, failuresByError: { THRESHOLD_CONFIDENCE_NOT_MET: 78 } });
    expect(summarizeDemo({ ...parts, batch: clean }).ok).toBe(true);
    const missing = summarizeDemo({ ...parts, batch: clean, expectedImages: 201 });
    expect(missing.executions.allAccountedFor).toBe(false);
    expect(missing.ok).toBe(false);
    expect(renderDemoSummary(missing)).toContain('NOT ALL ACCOUNTED FOR');
    const failedBatch = summarizeDemo({ ...parts, batch: { ...clean, batch: { status: 'FAILED', durationMs: 5 } } });
    expect(failedBatch.ok).toBe(false);
  });

  it('gives the drift verdict with the metrics in violation', () => {
    const drifted = summarizeDemo({ ...parts, report: report([{ metric: 'confidence_psi', status: 'violation' }, { metric: 'class_share_chi2', status: 'ok' }, { metric: 'brightness_ks', status: 'violation' }]) });
    expect(drifted.monitoring).toEqual({ recordsAnalyzed: 258, driftViolations: ['confidence_psi', 'brightness_ks'], verdict: 'drift', report: '/tmp/r/report.html' });
    expect(renderDemoSummary(drifted)).toMatch(/drift +drift: confidence_psi, brightness_ks/);
  });

  it('renders n/a rather than inventing figures that are missing', () => {
    const bare = summarizeDemo({ ...parts, manifest: null, endpoint: null, batch: batch({ accuracy: undefined }) });
    const text = renderDemoSummary(bare);
    expect(text).toMatch(/test accuracy +n\/a/);
    expect(text).toMatch(/passed precision +n\/a/);
    expect(text).toMatch(/endpoint +n\/a/);
  });
});
