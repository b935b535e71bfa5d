#!/usr/bin/env node
// Launcher of the `scones` command (root package.json "bin").
// In a source checkout it bundles apps/cli with esbuild (about 0.2 s; node_modules stay external)
// into node_modules/.cache/scones, so `npx scones` and `npm start` work right after `npm ci`
// with no build step. Without the sources it runs the built dist/apps/cli/main.js.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'apps/cli/src/main.ts');
const cached = path.join(root, 'node_modules/.cache/scones/cli.js');
const built = path.join(root, 'dist/apps/cli/main.js');

function bundle() {
  const esbuild = require('esbuild');
  esbuild.buildSync({
    entryPoints: [entry],
    outfile: cached,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    tsconfig: path.join(root, 'tsconfig.base.json'),
    logLevel: 'error',
  });
  return cached;
}

let script;
if (fs.existsSync(entry)) {
  try {
    script = bundle();
  } catch (error) {
    process.stderr.write(`scones: cannot build the CLI from source: ${error.message}\n`);
    process.exit(1);
  }
} else if (fs.existsSync(built)) {
  script = built;
} else {
  process.stderr.write('scones: neither apps/cli/src nor dist/apps/cli is present; run `npm ci` in the repository\n');
  process.exit(1);
}
process.env.SCONES_ROOT ??= root;
require(script);
