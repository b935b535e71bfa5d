// Test helpers for code that runs against the local stack (not part of the production API).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStack } from '@scones/stack-core';
import { startStack, type LocalStackOptions } from './lib/stack';
export { SERIALIZE_PY, FILTER_RAISE_STRING_PY, starterFilterPy, starterClassifyPy, starterDefinition, type StarterFunctions } from './lib/course-starter';
export { zipPackage, type PackageFile, FILTER_EXCEPTION_PY, FILTER_CUSTOM_EXCEPTION_PY, FILTER_STATUS_500_PY, ECHO_PY, ECHO_CJS, ECHO_MJS } from './lib/lambda/testing';

export interface TestStack extends LocalStack {
  /** Closes the stack and removes its data directory. */
  dispose(): Promise<void>;
}

/** A stack on a free port over a fresh temporary data directory. */
export async function startTestStack(options: Omit<LocalStackOptions, 'port' | 'dataDir'> & { dataDir?: string } = {}): Promise<TestStack> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'scones-stack-')));
  const stack = await startStack({ ...options, dataDir, port: 0 });
  return Object.assign(stack, {
    async dispose() {
      await stack.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  });
}
