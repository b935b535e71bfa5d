import type { MonitoringAnalysis, MonitoringBaseline } from '@scones/monitor-analytics';

/** `summary.json`: the report's figures for scripts and dashboards (no per-request data). */
export interface ReportSummary {
  version: 1;
  endpointName: string;
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
    checks: Array<{ metric: string; status: string; statisticName: string; observed: number | null; threshold: number; pValue: number | null; pValueThreshold: number }>;
  };
  malformedLines: { count: number; first: MonitoringAnalysis['metrics']['malformedLines'] };
}

/** JSON has no NaN: empty statistics become null. */
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function buildReportSummary(analysis: MonitoringAnalysis, baseline: MonitoringBaseline, generatedAt: Date): ReportSummary {
  const m = analysis.metrics;
  const total = m.records.analyzed;
  return {
    version: 1,
    endpointName: analysis.endpointName,
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
      violations: analysis.drift.violations.violations.length,
      checks: analysis.drift.checks.map((c) => ({
        metric: c.metric,
        status: c.status,
        statisticName: c.statisticName,
        observed: c.observed,
        threshold: c.threshold,
        pValue: c.pValue,
        pValueThreshold: c.pValueThreshold,
      })),
    },
    malformedLines: { count: m.records.malformed, first: m.malformedLines.slice(0, 20) },
  };
}
