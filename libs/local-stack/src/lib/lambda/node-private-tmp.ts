import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { dirname, isAbsolute, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * Lambda gives every execution environment its own /tmp. Environments here share the machine's, so
 * in a Node.js environment the `fs` and `fs/promises` functions that name files see paths under
 * /tmp in the environment's own directory: two concurrent environments that write `/tmp/image.png`
 * no longer read each other's file. `os.tmpdir()` already points there (TMPDIR). Not covered: native
 * addons and child processes (they get TMPDIR). The Python runtime does the same (python-bootstrap.ts).
 */

// fs functions whose first argument (or first two) name files.
const ONE_PATH = [
  'access', 'appendFile', 'chmod', 'chown', 'createReadStream', 'createWriteStream', 'exists', 'lchmod', 'lchown', 'lutimes', 'lstat',
  'mkdir', 'mkdtemp', 'open', 'openAsBlob', 'opendir', 'readdir', 'readFile', 'readlink', 'realpath', 'rm', 'rmdir', 'stat', 'statfs',
  'truncate', 'unlink', 'utimes', 'watch', 'watchFile', 'unwatchFile', 'writeFile',
];
const TWO_PATHS = ['copyFile', 'cp', 'link', 'rename', 'symlink'];

/**
 * Where `path` really is: `/tmp` and `/tmp/...` (string, Buffer or file: URL) under `privateDir`,
 * unless it lies in one of `keep` (directories under /tmp that are really there: the environment's
 * own directory, the stack's data directory with the function's code, the runtime's own modules).
 * Anything else (relative paths, file descriptors, other directories) is returned as it is.
 */
export function privateTmpPath(path: unknown, privateDir: string, keep: readonly string[]): unknown {
  let text: string;
  if (typeof path === 'string') text = path;
  else if (Buffer.isBuffer(path)) text = path.toString('utf8');
  else if (path instanceof URL && path.protocol === 'file:') text = fileURLToPath(path);
  else return path;
  if (text !== '/tmp' && !text.startsWith('/tmp/')) return path;
  const normal = normalize(text);
  if (normal !== '/tmp' && !normal.startsWith('/tmp/')) return path;
  if (keep.some((root) => normal === root || normal.startsWith(`${root}/`))) return path;
  return privateDir + normal.slice('/tmp'.length);
}

/** Directories under /tmp that must stay where they are for this process to work. */
export function keptTmpDirectories(privateDir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const candidates = [
    privateDir,
    env.SCONES_STACK_DATA_DIR,
    env.LAMBDA_TASK_ROOT,
    // The runtime's code (tools/run-ts.js and its bundle cache) and the modules it provides (NODE_PATH):
    // a workspace cloned under /tmp loads them lazily through fs.
    process.argv[1] ? dirname(dirname(process.argv[1])) : undefined,
    ...(env.NODE_PATH ?? '').split(':').flatMap((p) => (p ? [p, dirname(p)] : [])),
    dirname(dirname(process.execPath)),
  ];
  return [...new Set(candidates.filter((p): p is string => !!p && isAbsolute(p)).map((p) => normalize(p).replace(/\/+$/, '')))].filter((p) => p === '/tmp' || p.startsWith('/tmp/'));
}

type AnyFunction = (...args: unknown[]) => unknown;

function redirect(target: Record<string, unknown>, name: string, count: number, map: (p: unknown) => unknown): void {
  const original = target[name];
  if (typeof original !== 'function') return;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    for (let i = 0; i < count && i < args.length; i++) args[i] = map(args[i]);
    return (original as AnyFunction).apply(this, args);
  };
  // Keep what hangs off the original: realpath.native, the promisify.custom of exists and others.
  for (const key of Reflect.ownKeys(original)) {
    if (key === 'length' || key === 'name' || key === 'prototype') continue;
    const descriptor = Object.getOwnPropertyDescriptor(original, key);
    if (descriptor) Object.defineProperty(wrapped, key, descriptor);
  }
  if (typeof (original as { native?: unknown }).native === 'function') {
    (wrapped as unknown as { native: AnyFunction }).native = function (this: unknown, ...args: unknown[]) {
      args[0] = map(args[0]);
      return ((original as unknown as { native: AnyFunction }).native as AnyFunction).apply(this, args);
    };
  }
  Object.defineProperty(wrapped, 'name', { value: name });
  target[name] = wrapped;
}

/**
 * Installs the redirect of /tmp into `privateDir` on `fs`, its `Sync` variants and `fs.promises`,
 * and updates the ES module views of them (`import { writeFileSync } from 'node:fs'`). Call once,
 * before the function's code is loaded.
 */
export function installPrivateTmp(privateDir: string, env: NodeJS.ProcessEnv = process.env): void {
  const keep = keptTmpDirectories(privateDir, env);
  const map = (p: unknown) => privateTmpPath(p, privateDir, keep);
  const sync = fs as unknown as Record<string, unknown>;
  const promises = fs.promises as unknown as Record<string, unknown>;
  for (const [names, count] of [
    [ONE_PATH, 1],
    [TWO_PATHS, 2],
  ] as const) {
    for (const name of names) {
      redirect(sync, name, count, map);
      redirect(sync, `${name}Sync`, count, map);
      redirect(promises, name, count, map);
    }
  }
  syncBuiltinESMExports();
}
