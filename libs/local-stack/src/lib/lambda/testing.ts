// Fixtures for tests that run functions on the local stack (exported by src/testing.ts, not by the
// production index): a .zip builder and functions in the style of the course's starter
// (lambda_function.py with lambda_handler(event, context)).
import { zipSync, type Zippable } from 'fflate';
export { SERIALIZE_PY, FILTER_RAISE_STRING_PY } from '../course-starter';

/** A file of a test package: its text, or bytes, with an optional Unix mode (e.g. 0o755). */
export type PackageFile = string | Uint8Array | { data: string | Uint8Array; mode?: number; symlink?: boolean };

/**
 * A .zip of `files` (path -> content), made on "Unix" so modes survive. `symlink: true` makes the
 * entry a symbolic link whose target is its data (for the hostile-package tests); names are kept
 * as given, `../` and absolute ones included.
 */
export function zipPackage(files: Record<string, PackageFile>): Buffer {
  const entries: Zippable = {};
  for (const [name, file] of Object.entries(files)) {
    const spec = typeof file === 'string' || file instanceof Uint8Array ? { data: file } : file;
    const data = typeof spec.data === 'string' ? new TextEncoder().encode(spec.data) : spec.data;
    const mode = spec.symlink ? 0o120777 : (spec.mode ?? 0o644) | 0o100000;
    entries[name] = [data, { os: 3, attrs: (mode << 16) >>> 0, mtime: new Date('2026-01-01T00:00:00Z') }];
  }
  return Buffer.from(zipSync(entries, { level: 6 }));
}

/** A filter with its own exception class: the class name is the errorType. */
export const FILTER_CUSTOM_EXCEPTION_PY = `class Threshold_Confidence_Not_Met(Exception):
    pass


THRESHOLD = 0.93


def lambda_handler(event, context):
    inferences = event['body']['inferences']
    if max(inferences) < THRESHOLD:
        raise Threshold_Confidence_Not_Met("THRESHOLD_CONFIDENCE_NOT_MET")
    return {'statusCode': 200, 'body': event['body']}
`;

/** A filter that raises Exception(...). */
export const FILTER_EXCEPTION_PY = `def lambda_handler(event, context):
    if max(event['body']['inferences']) < 0.93:
        raise Exception("THRESHOLD_CONFIDENCE_NOT_MET")
    return {'statusCode': 200, 'body': event['body']}
`;

/** A filter that reports failure in its result instead of raising. */
export const FILTER_STATUS_500_PY = `import json


def lambda_handler(event, context):
    if max(event['body']['inferences']) < 0.93:
        return {'statusCode': 500, 'body': json.dumps('THRESHOLD_CONFIDENCE_NOT_MET')}
    return {'statusCode': 200, 'body': json.dumps(event['body'])}
`;

/** Answers the event it was given. */
export const ECHO_PY = `def lambda_handler(event, context):
    return event
`;

/** A CommonJS Node.js handler that answers the event it was given. */
export const ECHO_CJS = `exports.handler = async (event) => event;
`;

/** An ES module Node.js handler that answers the event it was given. */
export const ECHO_MJS = `export const handler = async (event) => event;
`;
