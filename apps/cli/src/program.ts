import { Command } from 'commander';
import { ExitCode } from './cli/errors';
import { commands } from './commands';

/** The `scones` command line, built fresh (tests create one per case). */
export function createProgram(): Command {
  const program = new Command('scones')
    .description('The Scones Unlimited image-classification workflow: local by default, AWS with --target aws.')
    .version(process.env.SCONES_VERSION ?? '0.1.0')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const make of commands) program.addCommand(make());
  // Usage errors (unknown option, bad value) exit with 2, like most Unix tools.
  program.exitOverride((err) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') process.exit(ExitCode.Success);
    process.exit(ExitCode.Usage);
  });
  const override = (command: Command) => {
    for (const sub of command.commands) {
      sub.exitOverride((err) => {
        if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') process.exit(ExitCode.Success);
        process.exit(ExitCode.Usage);
      });
      override(sub);
    }
  };
  override(program);
  return program;
}
