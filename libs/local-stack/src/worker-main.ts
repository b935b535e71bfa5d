// Entry of the processes the local stack starts (endpoints, training jobs, Lambda runtimes):
//   node tools/run-ts.js libs/local-stack/src/worker-main.ts <kind> [args...]
import { runStackWorker } from './lib/workers';

runStackWorker(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
