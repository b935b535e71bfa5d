import { createProgram } from './program';

// Thin entry point: every command lives in ./commands and its logic in the libraries.
createProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`scones: error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
