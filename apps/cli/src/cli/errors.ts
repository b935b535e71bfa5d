/** Exit codes of the `scones` command. */
export const ExitCode = {
  Success: 0,
  /** The work failed (bad data, a failed step, a service error). */
  Failure: 1,
  /** The command line was wrong (unknown option, missing argument, bad value). */
  Usage: 2,
  /** Stopped by Ctrl-C / SIGINT (128 + 2, the shell convention). */
  Interrupted: 130,
} as const;

/** A bad option value or combination; exits with {@link ExitCode.Usage}. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The run was stopped by a signal; exits with {@link ExitCode.Interrupted}. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor(signal = 'SIGINT') {
    super(`interrupted by ${signal}`);
  }
}
