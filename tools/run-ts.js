#!/usr/bin/env node
// Runs a TypeScript entry file of this workspace: bundles it (and the @scones/* libraries it
// imports) with esbuild into node_modules/.cache/scones, keeping npm packages external, then
// requires it. Used by the `scones` launcher, benchmarks and tools; about 0.2 s of overhead.
//   node tools/run-ts.js path/to/script.ts [args...]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const root = path.resolve(__dirname, '..');

/** Newest modification time of the sources a bundle can include (workspace TypeScript, configs). */
function newestSourceTime() {
  let newest = 0;
  const visit = (directory) => {
    let entries;
    try {
      entries = fs.readdirSync(directory, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (/\.(ts|json)$/.test(entry.name)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  for (const top of ['apps', 'libs', 'tools']) visit(path.join(root, top));
  newest = Math.max(newest, fs.statSync(path.join(root, 'tsconfig.base.json')).mtimeMs, fs.statSync(path.join(root, 'package-lock.json')).mtimeMs);
  return newest;
}

/**
 * Bundles `entry` and returns the path of the JavaScript file. The bundle is reused while no
 * workspace source is newer (a ~10 ms scan instead of a ~150 ms build on every command).
 */
function bundleTs(entry) {
  const absolute = path.resolve(entry);
  const name = path.basename(absolute, '.ts');
  const hash = crypto.createHash('sha1').update(absolute).digest('hex').slice(0, 8);
  const outfile = path.join(root, 'node_modules/.cache/scones', `${name}-${hash}.js`);
  try {
    if (fs.statSync(outfile).mtimeMs > newestSourceTime()) return outfile;
  } catch {
    // no bundle yet
  }
  // Written under a temporary name and renamed: concurrent commands never load half a bundle.
  const temporary = `${outfile}.${process.pid}.tmp`;
  require('esbuild').buildSync({
    entryPoints: [absolute],
    outfile: temporary,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    tsconfig: path.join(root, 'tsconfig.base.json'),
    logLevel: 'error',
  });
  fs.renameSync(temporary, outfile);
  return outfile;
}

module.exports = { bundleTs, root };

if (require.main === module) {
  const [entry, ...rest] = process.argv.slice(2);
  if (!entry) {
    process.stderr.write('usage: node tools/run-ts.js <file.ts> [args...]\n');
    process.exit(2);
  }
  const script = bundleTs(entry);
  process.argv = [process.argv[0], path.resolve(entry), ...rest];
  process.env.SCONES_ROOT ??= root;
  require(script);
}
