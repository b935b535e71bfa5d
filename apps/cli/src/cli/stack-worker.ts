import { runStackWorker } from '@scones/local-stack';

/** `scones __stack-worker <kind> …`: a process the local stack started (endpoint, training job, Lambda runtime). */
export function stackWorker(argv: string[]): Promise<number> {
  return runStackWorker(argv);
}
