// For the boto3 interoperability tests: the Python interpreter that has boto3 (CI installs
// Debian's python3-boto3), or undefined, so a test can say it did not run instead of passing.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function boto3Python(): Promise<string | undefined> {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      await run(python, ['-c', 'import boto3']);
      return python;
    } catch {
      /* try the next interpreter */
    }
  }
  return undefined;
}
