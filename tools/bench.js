#!/usr/bin/env node
// `npm run bench`: runs the `bench` target of every project, one at a time (benchmarks must not
// compete for the 2 cores), then rewrites BENCHMARKS.md from the sections they wrote to
// dist/bench/<project>.md, with the machine and the date. Benchmarks are not part of `npm test`.
//   npm run bench                      # all projects
//   npm run bench -- -p model-server   # some projects (other sections are kept from dist/bench)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const sections = path.join(root, 'dist/bench');
const args = process.argv.slice(2);

const started = Date.now();
const run = spawnSync(
  'npx',
  ['nx', 'run-many', '-t', 'bench', '--parallel=1', '--skip-nx-cache', '--outputStyle=stream', ...(args.length ? args : [])],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false' } },
);

const files = fs.existsSync(sections) ? fs.readdirSync(sections).filter((f) => f.endsWith('.md')).sort() : [];
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const header = [
  '# Benchmarks',
  '',
  'Written by `npm run bench` (tools/bench.js), which runs every project\'s `bench` target one after',
  'another and collects the sections below. Each section names its own command; figures are',
  'medians of repeated runs, compared side by side in the same run, because these machines are',
  'shared and noisy. Benchmarks are not part of `npm test`.',
  '',
  `- Date: ${new Date().toISOString().slice(0, 10)}`,
  `- Machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}`,
  `- Node.js ${process.version}`,
  `- Total bench time: ${((Date.now() - started) / 1000).toFixed(0)} s`,
  '',
];
const body = files.map((f) => fs.readFileSync(path.join(sections, f), 'utf8').trim() + '\n');
fs.writeFileSync(path.join(root, 'BENCHMARKS.md'), header.join('\n') + '\n' + body.join('\n'));
process.stderr.write(`bench: wrote BENCHMARKS.md from ${files.length} section(s)${run.status ? ` (nx exited ${run.status})` : ''}\n`);
process.exit(run.status ?? 1);
