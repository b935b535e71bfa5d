import type { ConstraintsDocument, MonitoringAnalysis, MonitoringBaseline, ViolationsDocument } from '@scones/monitor-analytics';
import { reportCharts } from './chart-specs';
import { renderReportHtml, type RenderedChart } from './report-html';
import { buildReportSummary, type ReportSummary } from './report-summary';
import { renderVegaLiteSvg } from './vega-render';

/** Everything a report consists of, in memory: the HTML page and its JSON companions. */
export interface MonitoringReport {
  html: string;
  summary: ReportSummary;
  constraints: ConstraintsDocument;
  violations: ViolationsDocument;
}

/** Renders the charts (Vega-Lite → SVG in Node) and assembles the report. */
export async function buildMonitoringReport(analysis: MonitoringAnalysis, baseline: MonitoringBaseline, generatedAt: Date): Promise<MonitoringReport> {
  const charts: RenderedChart[] = [];
  if (analysis.metrics.records.analyzed > 0) {
    for (const chart of reportCharts(analysis, baseline)) {
      charts.push({ id: chart.id, title: chart.title, caption: chart.caption, svg: await renderVegaLiteSvg(chart.spec, chart.id) });
    }
  }
  return {
    html: renderReportHtml({ analysis, baseline, charts, generatedAt }),
    summary: buildReportSummary(analysis, baseline, generatedAt),
    constraints: analysis.drift.constraints,
    violations: analysis.drift.violations,
  };
}
