export { ReportError, ChartRenderError, ReportWriteError } from './errors';
export { escapeHtml } from './lib/escape-html';
export { renderVegaLiteSvg, namespaceIds, type TopLevelSpec } from './lib/vega-render';
export {
  reportCharts,
  confidenceOverTimeChart,
  confidenceHistogramChart,
  classMixChart,
  volumeChart,
  brightnessChart,
  embeddingMapChart,
  outOfDistributionChart,
  selectPoints,
  type ChartSpec,
} from './lib/chart-specs';
export { renderReportHtml, type RenderedChart, type ReportHtmlInput } from './lib/report-html';
export { buildReportSummary, type ReportSummary } from './lib/report-summary';
export { buildMonitoringReport, type MonitoringReport } from './lib/build-report';
export {
  writeMonitoringReport,
  reportHourPath,
  reportPaths,
  checkReportName,
  DEFAULT_REPORT_PREFIX,
  ON_DEMAND_SCHEDULE,
  BASELINES_FOLDER,
  REPORT_FILES,
  BASELINE_FILES,
  type ReportDestination,
  type WrittenReport,
} from './lib/report-writer';
export {
  generateMonitoringReport,
  generateEndpointReport,
  loadBaselineEmbedder,
  type LoadedEmbedder,
  type GenerateReportOptions,
  type GeneratedReport,
  type EndpointReportOptions,
  type CaptureLocation,
} from './lib/generate-report';
