import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ReportWriteError } from '../errors';
import type { MonitoringReport } from './build-report';

/**
 * Where reports go, laid out as a SageMaker monitoring schedule writes its executions:
 * `<directory or s3://bucket/prefix>/<endpoint>/<schedule>/<yyyy>/<mm>/<dd>/<hh>/`, and the
 * baseline's files (one pair per model) under `<…>/_baselines/<job>/`.
 */
export type ReportDestination = { kind: 'directory'; directory: string } | { kind: 's3'; client: S3Client; bucket: string; prefix?: string };

export const DEFAULT_REPORT_PREFIX = 'reports/';
/** The schedule name of reports written on demand (`scones report`). */
export const ON_DEMAND_SCHEDULE = 'on-demand';
/** The folder of the baselines' Model Monitor files; `_` cannot start an endpoint name, so it never collides with one. */
export const BASELINES_FOLDER = '_baselines';

/** The files of one report (an execution's folder). */
export const REPORT_FILES = {
  statistics: 'statistics.json',
  violations: 'constraint_violations.json',
  summary: 'summary.json',
  html: 'report.html',
} as const;

/** The files of a baseline (what a SageMaker baselining job writes). */
export const BASELINE_FILES = { statistics: 'statistics.json', constraints: 'constraints.json' } as const;

export interface WrittenReport {
  /** The report folder (directory path or s3:// URL). */
  location: string;
  /** report.html (path or s3:// URL). */
  html: string;
  files: Record<keyof typeof REPORT_FILES, string>;
  /** The baseline's statistics.json and constraints.json. */
  baseline: Record<keyof typeof BASELINE_FILES, string>;
  /** Whether a report of the same schedule and hour was there and has been replaced (null in S3, where it is not checked). */
  replaced: boolean | null;
}

// SageMaker's rule for endpoint, schedule and training job names; it also keeps names from escaping the report folder.
const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** Refuses a name that is not 1-63 letters, digits and hyphens; `what` names it in the message. */
export function checkReportName(name: string, what: string): void {
  if (!NAME.test(name)) throw new ReportWriteError(`${what} ${JSON.stringify(name)}: expected 1-63 letters, digits and hyphens (SageMaker's rule)`);
}

/** `2026/03/01/10`: the execution folder of a report whose window ends at `time` (UTC). */
export function reportHourPath(time: Date): string {
  const iso = time.toISOString();
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}`;
}

/** Relative paths (`/`-separated) of a report's folder and its baseline's folder. */
export function reportPaths(endpointName: string, schedule: string, hourOf: Date, jobName: string): { report: string; baseline: string } {
  checkReportName(endpointName, 'endpoint name');
  checkReportName(schedule, 'schedule name');
  checkReportName(jobName, 'model (training job) name');
  return { report: `${endpointName}/${schedule}/${reportHourPath(hourOf)}`, baseline: `${BASELINES_FOLDER}/${jobName}` };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The report's files in upload order: report.html last (in S3 its presence means the folder is complete). */
function reportContents(report: MonitoringReport): Array<[keyof typeof REPORT_FILES, string, string]> {
  return [
    ['statistics', json(report.statistics), 'application/json'],
    ['violations', json(report.violations), 'application/json'],
    ['summary', json(report.summary), 'application/json'],
    ['html', report.html, 'text/html; charset=utf-8'],
  ];
}

function baselineContents(report: MonitoringReport): Array<[keyof typeof BASELINE_FILES, string, string]> {
  return [
    ['statistics', json(report.baselineStatistics), 'application/json'],
    ['constraints', json(report.baselineConstraints), 'application/json'],
  ];
}

const exists = (path: string) => stat(path).then(
  () => true,
  () => false,
);

/** Writes a file through a temporary name, so a reader sees the old file or the new one, never half of one. */
async function writeFileAtomic(path: string, body: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temporary, body);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * Writes a report: its baseline's statistics.json and constraints.json (replaced, each atomically),
 * then the execution folder of the schedule and hour (statistics.json, constraint_violations.json,
 * summary.json, report.html). A folder already there for that schedule and hour is replaced, as a
 * later execution of the same hour replaces an earlier one. In a directory the new folder is
 * written under a hidden temporary name and swapped in, so a reader never sees half a report; in
 * S3, report.html is uploaded last.
 */
export async function writeMonitoringReport(
  report: MonitoringReport,
  destination: ReportDestination,
  options: { endpointName: string; schedule: string; hourOf: Date; jobName: string },
  signal?: AbortSignal,
): Promise<WrittenReport> {
  const paths = reportPaths(options.endpointName, options.schedule, options.hourOf, options.jobName);
  if (destination.kind === 'directory') {
    const root = resolve(destination.directory);
    const baselineDir = join(root, ...paths.baseline.split('/'));
    const final = join(root, ...paths.report.split('/'));
    const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
    // Hidden siblings of the hour folder: a reader listing the day sees the old report or the new one.
    const temporary = join(dirname(final), `.${basename(final)}.tmp-${suffix}`);
    const previous = join(dirname(final), `.${basename(final)}.old-${suffix}`);
    let replaced = false;
    try {
      await mkdir(baselineDir, { recursive: true });
      for (const [name, body] of baselineContents(report)) {
        signal?.throwIfAborted();
        await writeFileAtomic(join(baselineDir, BASELINE_FILES[name]), body);
      }
      await mkdir(temporary, { recursive: true });
      for (const [name, body] of reportContents(report)) {
        signal?.throwIfAborted();
        await writeFile(join(temporary, REPORT_FILES[name]), body);
      }
      signal?.throwIfAborted();
      // rename() cannot replace a non-empty directory: the old report steps aside first.
      replaced = await exists(final);
      if (replaced) await rename(final, previous);
      try {
        await rename(temporary, final);
      } catch (error) {
        if (replaced) await rename(previous, final).catch(() => undefined);
        throw error;
      }
      if (replaced) await rm(previous, { recursive: true, force: true });
    } catch (error) {
      await rm(temporary, { recursive: true, force: true }).catch(() => undefined); // best effort: the write error matters
      if (signal?.aborted) throw error;
      throw new ReportWriteError(`cannot write the report to ${final}: ${(error as Error).message}`);
    }
    const files = Object.fromEntries(Object.entries(REPORT_FILES).map(([k, f]) => [k, join(final, f)])) as WrittenReport['files'];
    const baseline = Object.fromEntries(Object.entries(BASELINE_FILES).map(([k, f]) => [k, join(baselineDir, f)])) as WrittenReport['baseline'];
    return { location: final, html: files.html, files, baseline, replaced };
  }
  const base = destination.prefix ?? DEFAULT_REPORT_PREFIX;
  const root = base === '' || base.endsWith('/') ? base : `${base}/`;
  const url = (key: string) => `s3://${destination.bucket}/${key}`;
  const put = async (key: string, body: string, contentType: string) => {
    try {
      await destination.client.send(new PutObjectCommand({ Bucket: destination.bucket, Key: key, Body: body, ContentType: contentType }), { abortSignal: signal });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ReportWriteError(`cannot upload ${url(key)}: ${(error as Error).name}: ${(error as Error).message}`);
    }
  };
  for (const [name, body, type] of baselineContents(report)) await put(`${root}${paths.baseline}/${BASELINE_FILES[name]}`, body, type);
  for (const [name, body, type] of reportContents(report)) await put(`${root}${paths.report}/${REPORT_FILES[name]}`, body, type);
  const files = Object.fromEntries(Object.entries(REPORT_FILES).map(([k, f]) => [k, url(`${root}${paths.report}/${f}`)])) as WrittenReport['files'];
  const baseline = Object.fromEntries(Object.entries(BASELINE_FILES).map(([k, f]) => [k, url(`${root}${paths.baseline}/${f}`)])) as WrittenReport['baseline'];
  // S3 overwrites in place; whether an earlier report was there is not worth a request.
  return { location: url(`${root}${paths.report}/`), html: files.html, files, baseline, replaced: null };
}
