/** Base class of every error raised by @scones/monitor-analytics. */
export class MonitorAnalyticsError extends Error {
  override readonly name: string = 'MonitorAnalyticsError';
}

/** Capture files could not be listed or read (missing directory, S3 error, bad time range). */
export class CaptureSourceError extends MonitorAnalyticsError {
  override readonly name = 'CaptureSourceError';
}

/** No usable model manifest (baseline, threshold, class names) was found or it is invalid. */
export class BaselineError extends MonitorAnalyticsError {
  override readonly name = 'BaselineError';
}

/** A `since` / `until` value that is neither a duration nor an ISO time, or an empty window. */
export class TimeWindowError extends MonitorAnalyticsError {
  override readonly name = 'TimeWindowError';
}
