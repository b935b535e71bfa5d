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

/** Bundles `entry` and returns the path of the JavaScript file. */
function bundleTs(entry) {
  const absolute = path.resolve(entry);
  const name = path.basename(absolute, '.ts');
  const hash = crypto.createHash('sha1').update(absolute).digest('hex').slice(0, 8);
  const outfile = path.join(root, 'node_modules/.cache/scones', `${name}-${hash}.js`);
  require('esbuild').buildSync({
    entryPoints: [absolute],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    tsconfig: path.join(root, 'tsconfig.base.json'),
    logLevel: 'error',
  });
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
