import { existsSync } from 'node:fs';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

function workspaceRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json above ${from}`);
  }
}

/**
 * Bundles a TypeScript entry as tools/run-ts.js does (workspace code inlined, npm packages
 * external) into a fresh directory under the OS temp dir, beside a `node_modules` link to the
 * workspace's packages: the layout of a deployed bundle. Returns the bundle's path.
 */
export async function bundleForTest(entry: string): Promise<{ file: string; dir: string }> {
  const root = workspaceRoot(__dirname);
  const dir = await mkdtemp(join(tmpdir(), 'scones-bundle-'));
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const file = join(dir, 'main.js');
  await build({ entryPoints: [entry], outfile: file, bundle: true, platform: 'node', format: 'cjs', target: 'node20', packages: 'external', tsconfig: join(root, 'tsconfig.base.json'), logLevel: 'error' });
  return { file, dir };
}
