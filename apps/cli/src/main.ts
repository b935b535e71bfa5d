import { STACK_WORKER_COMMAND } from './cli/stack-options';
import { createProgram } from './program';

// Thin entry point: every command lives in ./commands and its logic in the libraries.
if (process.argv[2] === STACK_WORKER_COMMAND) {
  // A process the local stack started (an endpoint, a training job, a Lambda runtime).
  import('./cli/stack-worker.js').then(({ stackWorker }) => stackWorker(process.argv.slice(3))).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`scones stack worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
} else {
  createProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.stderr.write(`scones: error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
}
