#!/usr/bin/env node
// Launcher of the `scones` command (root package.json "bin").
// In a source checkout it bundles apps/cli with esbuild (tools/run-ts.js, about 0.2 s; npm
// packages stay external), so `npx scones` and `npm start` work right after `npm ci` with no
// build step. Without the sources it runs the built dist/apps/cli/main.js.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'apps/cli/src/main.ts');
const built = path.join(root, 'dist/apps/cli/main.js');

let script;
if (fs.existsSync(entry)) {
  try {
    script = require('./run-ts').bundleTs(entry);
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
// Node 20 is supported (package.json engines); the SDK's notice that its 2027 releases need
// Node 22 would otherwise be printed by every subcommand. Set it to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require(script);
