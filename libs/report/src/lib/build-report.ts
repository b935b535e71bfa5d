import {
  baselineFeatureData,
  constraintsFile,
  statisticsFile,
  type ConstraintsFile,
  type ConstraintViolationsFile,
  type MonitoringAnalysis,
  type MonitoringBaseline,
  type StatisticsFile,
} from '@scones/monitor-analytics';
import { reportCharts } from './chart-specs';
import { renderReportHtml, type RenderedChart } from './report-html';
import { buildReportSummary, type ReportSummary } from './report-summary';
import { renderVegaLiteSvg } from './vega-render';

/** Everything a report consists of, in memory: the HTML page, summary.json and the Model Monitor files. */
export interface MonitoringReport {
  html: string;
  summary: ReportSummary;
  /** The window's statistics.json and constraint_violations.json. */
  statistics: StatisticsFile;
  violations: ConstraintViolationsFile;
  /** The baseline's statistics.json and constraints.json (from the validation data recorded at training time). */
  baselineStatistics: StatisticsFile;
  baselineConstraints: ConstraintsFile;
}

/** Renders the charts (Vega-Lite → SVG in Node) and assembles the report. */
export async function buildMonitoringReport(analysis: MonitoringAnalysis, baseline: MonitoringBaseline, generatedAt: Date, schedule: string): Promise<MonitoringReport> {
  const charts: RenderedChart[] = [];
  if (analysis.metrics.records.analyzed > 0) {
    for (const chart of reportCharts(analysis, baseline)) {
      charts.push({ id: chart.id, title: chart.title, caption: chart.caption, svg: await renderVegaLiteSvg(chart.spec, chart.id) });
    }
  }
  const report = {
    summary: buildReportSummary(analysis, baseline, generatedAt, schedule),
    statistics: analysis.modelMonitor.statistics,
    violations: analysis.modelMonitor.violations,
    baselineStatistics: statisticsFile(baselineFeatureData(baseline)),
    baselineConstraints: constraintsFile(baseline, analysis.drift.policy),
  };
  return { ...report, html: renderReportHtml({ analysis, baseline, charts, generatedAt, schedule, modelMonitor: report }) };
}
