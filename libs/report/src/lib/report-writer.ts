import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ReportWriteError } from '../errors';
import type { MonitoringReport } from './build-report';

/** Where reports go: `<directory>/<endpoint>/<timestamp>/` or `s3://<bucket>/<prefix><endpoint>/<timestamp>/`. */
export type ReportDestination = { kind: 'directory'; directory: string } | { kind: 's3'; client: S3Client; bucket: string; prefix?: string };

export const DEFAULT_REPORT_PREFIX = 'reports/';

export const REPORT_FILES = { html: 'report.html', summary: 'summary.json', violations: 'violations.json', constraints: 'constraints.json' } as const;

export interface WrittenReport {
  /** The report folder (directory path or s3:// URL). */
  location: string;
  /** report.html (path or s3:// URL). */
  html: string;
  files: Record<keyof typeof REPORT_FILES, string>;
}

/** `2026-03-01T10-00-00Z`: sortable, and valid in file names and S3 keys everywhere. */
export function reportTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
}

// SageMaker's endpoint-name rule; it also keeps names from escaping the report folder.
const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

function contents(report: MonitoringReport): Array<[keyof typeof REPORT_FILES, string, string]> {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  // report.html last: in S3 its presence means the folder is complete.
  return [
    ['summary', json(report.summary), 'application/json'],
    ['violations', json(report.violations), 'application/json'],
    ['constraints', json(report.constraints), 'application/json'],
    ['html', report.html, 'text/html; charset=utf-8'],
  ];
}

/**
 * Writes report.html, summary.json, violations.json and constraints.json. In a directory they are
 * written to a hidden temporary folder that is renamed into place, so a reader never sees half a
 * report; in S3, report.html is uploaded last.
 */
export async function writeMonitoringReport(report: MonitoringReport, destination: ReportDestination, endpointName: string, generatedAt: Date, signal?: AbortSignal): Promise<WrittenReport> {
  if (!ENDPOINT_NAME.test(endpointName)) {
    throw new ReportWriteError(`endpoint name ${JSON.stringify(endpointName)}: expected 1-63 letters, digits and hyphens (SageMaker's rule)`);
  }
  const timestamp = reportTimestamp(generatedAt);
  if (destination.kind === 'directory') {
    const parent = resolve(destination.directory, endpointName);
    const final = join(parent, timestamp);
    const temporary = join(parent, `.${timestamp}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    if (await stat(final).then(() => true, () => false)) throw new ReportWriteError(`report folder ${final} already exists`);
    try {
      await mkdir(temporary, { recursive: true });
      for (const [name, body] of contents(report)) {
        signal?.throwIfAborted();
        await writeFile(join(temporary, REPORT_FILES[name]), body);
      }
      await rename(temporary, final);
    } catch (error) {
      await rm(temporary, { recursive: true, force: true }).catch(() => undefined); // best effort: the write error matters
      if (signal?.aborted) throw error;
      throw new ReportWriteError(`cannot write the report to ${final}: ${(error as Error).message}`);
    }
    const files = Object.fromEntries(Object.entries(REPORT_FILES).map(([k, f]) => [k, join(final, f)])) as WrittenReport['files'];
    return { location: final, html: files.html, files };
  }
  const base = destination.prefix ?? DEFAULT_REPORT_PREFIX;
  const prefix = `${base.endsWith('/') || base === '' ? base : `${base}/`}${endpointName}/${timestamp}/`;
  const url = (key: string) => `s3://${destination.bucket}/${key}`;
  for (const [name, body, contentType] of contents(report)) {
    const key = `${prefix}${REPORT_FILES[name]}`;
    try {
      await destination.client.send(new PutObjectCommand({ Bucket: destination.bucket, Key: key, Body: body, ContentType: contentType }), { abortSignal: signal });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ReportWriteError(`cannot upload ${url(key)}: ${(error as Error).name}: ${(error as Error).message}`);
    }
  }
  const files = Object.fromEntries(Object.entries(REPORT_FILES).map(([k, f]) => [k, url(`${prefix}${f}`)])) as WrittenReport['files'];
  return { location: url(prefix), html: files.html, files };
}
