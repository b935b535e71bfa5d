/** What X-Amz-Log-Type: Tail returns: the last 4 KB of the invocation's log. */
export const TAIL_BYTES = 4096;

export interface ReportFigures {
  durationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  initDurationMs?: number;
  /** `timeout`, `error` (with errorType) — absent when the invocation ended normally. */
  status?: 'timeout' | 'error';
  errorType?: string;
}

/**
 * The log of one invocation as Lambda writes it to CloudWatch: what the function printed between
 * `START RequestId: … Version: $LATEST` and `END`/`REPORT` lines (platform events as JSON with the
 * JSON log format). Init output of a cold start comes first, as on Lambda.
 */
export class InvocationLog {
  private text = '';
  private readonly timestamps: Array<[offset: number, time: number]> = [];

  constructor(
    readonly requestId: string,
    private readonly format: 'Text' | 'JSON',
    private readonly now: () => number = Date.now,
  ) {}

  append(text: string): void {
    if (!text) return;
    this.timestamps.push([this.text.length, this.now()]);
    this.text += text;
  }

  initReport(initMs: number, errorType?: string): void {
    if (this.format === 'JSON') {
      this.platform('platform.initReport', { initializationType: 'on-demand', phase: 'init', status: errorType ? 'error' : 'success', ...(errorType ? { errorType } : {}), metrics: { durationMs: round(initMs) } });
      return;
    }
    this.append(`INIT_REPORT Init Duration: ${initMs.toFixed(2)} ms\tPhase: init\tStatus: ${errorType ? 'error' : 'success'}${errorType ? `\tError Type: ${errorType}` : ''}\n`);
  }

  start(): void {
    if (this.format === 'JSON') this.platform('platform.start', { requestId: this.requestId, version: '$LATEST' });
    else this.append(`START RequestId: ${this.requestId} Version: $LATEST\n`);
  }

  timedOut(seconds: number): void {
    const text = `Task timed out after ${seconds.toFixed(2)} seconds`;
    if (this.format === 'JSON') this.append(`${JSON.stringify({ timestamp: new Date(this.now()).toISOString(), level: 'ERROR', requestId: this.requestId, message: text })}\n`);
    else this.append(`${new Date(this.now()).toISOString()} ${this.requestId} ${text}\n\n`);
  }

  /** The platform's END and REPORT lines. */
  end(report: ReportFigures): void {
    const billed = Math.max(1, Math.ceil(report.durationMs));
    if (this.format === 'JSON') {
      this.platform('platform.report', {
        requestId: this.requestId,
        metrics: {
          durationMs: round(report.durationMs),
          billedDurationMs: billed,
          memorySizeMB: report.memorySizeMb,
          maxMemoryUsedMB: report.maxMemoryUsedMb,
          ...(report.initDurationMs !== undefined ? { initDurationMs: round(report.initDurationMs) } : {}),
        },
        status: report.status ?? 'success',
        ...(report.errorType ? { errorType: report.errorType } : {}),
      });
      return;
    }
    let line = `REPORT RequestId: ${this.requestId}\tDuration: ${report.durationMs.toFixed(2)} ms\tBilled Duration: ${billed} ms\tMemory Size: ${report.memorySizeMb} MB\tMax Memory Used: ${report.maxMemoryUsedMb} MB\t`;
    if (report.initDurationMs !== undefined) line += `Init Duration: ${report.initDurationMs.toFixed(2)} ms\t`;
    if (report.status) line += `Status: ${report.status}\t`;
    if (report.errorType) line += `Error Type: ${report.errorType}\t`;
    this.append(`END RequestId: ${this.requestId}\n`);
    this.append(`${line}\n`);
  }

  /** The whole log. */
  toString(): string {
    return this.text;
  }

  /** Base64 of the log's last 4 KB (X-Amz-Log-Result). */
  tail(): string {
    const bytes = Buffer.from(this.text, 'utf8');
    return bytes.subarray(Math.max(0, bytes.length - TAIL_BYTES)).toString('base64');
  }

  /** CloudWatch events: one per line (a line keeps its newline, as Lambda's do), with when it was written. */
  events(): Array<{ timestamp: number; message: string }> {
    const events: Array<{ timestamp: number; message: string }> = [];
    let index = 0;
    let offset = 0;
    for (const line of this.text.split(/(?<=\n)/)) {
      if (!line) continue;
      while (index + 1 < this.timestamps.length && this.timestamps[index + 1][0] <= offset) index++;
      events.push({ timestamp: this.timestamps[index]?.[1] ?? this.now(), message: line });
      offset += line.length;
    }
    return events;
  }

  private platform(type: string, record: Record<string, unknown>): void {
    this.append(`${JSON.stringify({ time: new Date(this.now()).toISOString(), type, record })}\n`);
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
