/** Base class of every error raised by @scones/report. */
export class ReportError extends Error {
  override readonly name: string = 'ReportError';
}

/** A chart could not be rendered (an invalid Vega-Lite spec, or vega failed to load). */
export class ChartRenderError extends ReportError {
  override readonly name = 'ChartRenderError';
}

/** The report files could not be written to the directory or bucket. */
export class ReportWriteError extends ReportError {
  override readonly name = 'ReportWriteError';
}
