import { BASELINE_FILES, BASELINES_FOLDER, REPORT_FILES } from './report-writer';
import type { DriftConstraint, DriftPolicy, MonitoringAnalysis, MonitoringBaseline, SignificanceRule } from '@scones/monitor-analytics';

/** `summary.json`: the report's figures for scripts and dashboards (no per-request data), richer than the Model Monitor files beside it. */
export interface ReportSummary {
  version: 2;
  endpointName: string;
  /** The monitoring schedule the report belongs to (`on-demand` for `scones report`). */
  schedule: string;
  generatedAt: string;
  window: { since: string | null; until: string | null };
  captureLocation: string;
  model: { jobName: string; manifest: string; classNames: string[]; threshold: number; baselineCount: number };
  files: { read: number; bytes: number };
  records: MonitoringAnalysis['metrics']['records'];
  firstTime: string | null;
  lastTime: string | null;
  rate: MonitoringAnalysis['metrics']['rate'];
  predictedClasses: Record<string, { count: number; share: number | null }>;
  confidence: {
    mean: number | null;
    quantiles: Record<string, number | null>;
    belowThreshold: { count: number; share: number | null };
  };
  images: {
    sampled: number;
    undecodable: number;
    byteSize: { mean: number | null; p50: number | null; max: number | null };
    dimensions: Array<{ width: number; height: number; count: number }>;
    contentTypes: Record<string, number>;
    meanBrightness: { r: number | null; g: number | null; b: number | null };
  };
  drift: {
    violations: number;
    checks: Array<{
      metric: string;
      feature: string;
      checkType: string;
      test: string;
      status: string;
      statisticName: string;
      observed: number | null;
      threshold: number;
      pValue: number | null;
      pValueThreshold: number;
      description: string;
    }>;
    rules: DriftConstraint[];
    policy: DriftPolicy;
    significance: SignificanceRule;
  };
  embedding:
    | { available: false; reason: string }
    | {
        available: true;
        sampled: number;
        sampleLimit: number;
        distinct: number;
        /** Nearest training images an input's atypicality averages over. */
        neighbours: number;
        test: { statistic: number; pValue: number; permutations: number; stoppedEarly: boolean } | null;
        outOfDistribution: { count: number; share: number | null; threshold: number; quantile: number; expectedShare: number };
      };
  /** Share of the embedded inputs that were out of distribution, per timeline bucket. */
  outOfDistributionOverTime: Array<{ start: string; embedded: number; outOfDistribution: number; share: number | null }>;
  /** The Model Monitor files: the report's, in its folder; the baseline's, relative to the reports root. */
  modelMonitor: { statistics: string; constraintViolations: string; baselineStatistics: string; baselineConstraints: string };
  malformedLines: { count: number; first: MonitoringAnalysis['metrics']['malformedLines'] };
}

/** JSON has no NaN: empty statistics become null. */
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function buildReportSummary(analysis: MonitoringAnalysis, baseline: MonitoringBaseline, generatedAt: Date, schedule: string): ReportSummary {
  const m = analysis.metrics;
  const total = m.records.analyzed;
  const e = analysis.embedding;
  return {
    version: 2,
    endpointName: analysis.endpointName,
    schedule,
    generatedAt: generatedAt.toISOString(),
    window: analysis.window,
    captureLocation: analysis.location,
    model: { jobName: baseline.jobName, manifest: baseline.source, classNames: m.classNames, threshold: m.threshold, baselineCount: baseline.count },
    files: analysis.files,
    records: m.records,
    firstTime: m.firstTime,
    lastTime: m.lastTime,
    rate: m.rate,
    predictedClasses: Object.fromEntries(m.classNames.map((name, k) => [name, { count: m.classCounts[k], share: total ? m.classCounts[k] / total : null }])),
    confidence: {
      mean: finite(m.confidence.distribution.mean),
      quantiles: Object.fromEntries(m.confidence.quantiles.map((q) => [`p${String(Math.round(q.p * 100)).padStart(2, '0')}`, finite(q.value)])),
      belowThreshold: m.confidence.belowThreshold,
    },
    images: {
      sampled: m.images.sampled,
      undecodable: m.images.undecodable,
      byteSize: { mean: finite(m.images.byteSize.mean), p50: finite(m.images.byteSize.p50), max: finite(m.images.byteSize.max) },
      dimensions: m.images.dimensions,
      contentTypes: m.images.contentTypes,
      meanBrightness: { r: finite(m.images.brightness.r.mean), g: finite(m.images.brightness.g.mean), b: finite(m.images.brightness.b.mean) },
    },
    drift: {
      violations: analysis.modelMonitor.violations.violations.length,
      checks: analysis.drift.checks.map((c) => ({
        metric: c.metric,
        feature: c.feature,
        checkType: c.checkType,
        test: c.test,
        status: c.status,
        statisticName: c.statisticName,
        observed: c.observed,
        threshold: c.threshold,
        pValue: c.pValue,
        pValueThreshold: c.pValueThreshold,
        description: c.description,
      })),
      rules: analysis.drift.rules,
      policy: analysis.drift.policy,
      significance: analysis.drift.significance,
    },
    embedding:
      'unavailable' in e
        ? { available: false, reason: e.unavailable }
        : {
            available: true,
            sampled: e.sampled,
            sampleLimit: e.sampleLimit,
            distinct: e.distinct,
            neighbours: e.neighbours,
            test: e.test && { statistic: e.test.statistic, pValue: e.test.pValue, permutations: e.test.permutations, stoppedEarly: e.test.stoppedEarly },
            outOfDistribution: e.outOfDistribution,
          },
    outOfDistributionOverTime:
      'unavailable' in e ? [] : m.timeline.buckets.map((b) => ({ start: b.start, embedded: b.embedded, outOfDistribution: b.outOfDistribution, share: b.embedded ? b.outOfDistribution / b.embedded : null })),
    modelMonitor: {
      statistics: REPORT_FILES.statistics,
      constraintViolations: REPORT_FILES.violations,
      baselineStatistics: `${BASELINES_FOLDER}/${baseline.jobName}/${BASELINE_FILES.statistics}`,
      baselineConstraints: `${BASELINES_FOLDER}/${baseline.jobName}/${BASELINE_FILES.constraints}`,
    },
    malformedLines: { count: m.records.malformed, first: m.malformedLines.slice(0, 20) },
  };
}
