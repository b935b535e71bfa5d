import { setMaxListeners } from 'node:events';
import { PayloadValidationError } from '@scones/payload-schemas';
import { ExitCode, InterruptedError, UsageError } from './errors';
import { Output } from './output';

export interface CommandContext {
  output: Output;
  /** Aborted on the first SIGINT/SIGTERM: long work stops and cleans up. */
  signal: AbortSignal;
}

/** Maps an error to the exit code a script can act on. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return ExitCode.Usage;
  if (error instanceof InterruptedError || (error as Error)?.name === 'AbortError') return ExitCode.Interrupted;
  return ExitCode.Failure;
}

/**
 * Runs a command body with the shared conventions: `--json` output, Ctrl-C handling (first signal
 * aborts and lets the command clean up, a second one exits at once), and errors printed as one
 * line naming the command and the cause, with a meaningful exit code.
 */
export async function runCommand(
  name: string,
  options: { json?: boolean },
  body: (ctx: CommandContext) => Promise<void>,
): Promise<number> {
  const output = new Output(Boolean(options.json));
  const controller = new AbortController();
  // Every in-flight request, upload and training step listens to it: many listeners are expected.
  setMaxListeners(1000, controller.signal);
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      output.info(`scones ${name}: ${sig} again, exiting now`);
      process.exit(ExitCode.Interrupted);
    }
    output.info(`scones ${name}: ${sig} received, stopping (press Ctrl-C again to force)`);
    controller.abort(new InterruptedError(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await body({ output, signal: controller.signal });
    return controller.signal.aborted ? ExitCode.Interrupted : ExitCode.Success;
  } catch (error) {
    const code = controller.signal.aborted ? ExitCode.Interrupted : exitCodeFor(error);
    const message = error instanceof Error ? error.message : String(error);
    const kind = error instanceof Error && !(error instanceof PayloadValidationError) && error.name !== 'Error' && !(error instanceof UsageError) ? `${error.name}: ` : '';
    if (code === ExitCode.Interrupted) output.info(`scones ${name}: interrupted; what it started has been stopped`);
    else output.info(`scones ${name}: error: ${kind}${message}`);
    if (process.env.SCONES_DEBUG && error instanceof Error && error.stack) output.info(error.stack);
    if (options.json) output.result({ ok: false, command: name, error: { name: (error as Error)?.name ?? 'Error', message } });
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
