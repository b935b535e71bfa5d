// Builds Lambda bundles into their project.json outputPath (dist/apps/<name>/main.js + .map) with
// the esbuild options of each app's build target, mapped as @nx/esbuild maps them (see
// tools/lambda-bundles.ts) but without its type check: about a second instead of half a minute
// of `nx build`. `scones run` uses it when a bundle is missing or older than its sources.
//   node tools/run-ts.js tools/build-lambda-bundles.ts serialize-lambda classify-lambda filter-lambda
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WORKSPACE_ROOT, buildLambdaBundle, readBuildOptions } from './lambda-bundles';

async function build(project: string): Promise<void> {
  const started = performance.now();
  const outdir = join(WORKSPACE_ROOT, readBuildOptions(project).outputPath);
  // Built aside, then renamed into place (map first), so no reader sees a half-written bundle.
  const scratch = `${outdir}.building-${process.pid}`;
  try {
    const bundle = await buildLambdaBundle(project, { outdir: scratch });
    await mkdir(outdir, { recursive: true });
    await rename(`${bundle.file}.map`, join(outdir, 'main.js.map'));
    await rename(bundle.file, join(outdir, 'main.js'));
    process.stderr.write(`built ${join(outdir, 'main.js')} (${Math.round(bundle.bytes / 1024)} KiB) in ${Math.round(performance.now() - started)} ms\n`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const projects = process.argv.slice(2);
  if (projects.length === 0) {
    process.stderr.write('usage: node tools/run-ts.js tools/build-lambda-bundles.ts <project>...\n');
    process.exit(2);
  }
  await Promise.all(projects.map(build));
}

main().catch((error: Error) => {
  process.stderr.write(`build-lambda-bundles: ${error.message}\n`);
  process.exit(1);
});
